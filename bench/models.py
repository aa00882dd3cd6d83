"""qts's default LSTM against PyTorch's on the same CPU, in one run.

    bench/models.sh [THREADS] [cuda]     (default 2 threads, this machine's cores; `cuda`
                                          runs both sides on the first GPU instead)

1. One training epoch (wall time and process CPU time): nn.LSTM(20, 128, 2, dropout=0.2, batch_first=True) + nn.Linear(128, 1)
   on the last step, 20,000 windows of 60 x 20 float32 inputs, batch 64, shuffled, Adam 1e-3,
   MSE, gradient clipping at norm 1.0, dropout on. PyTorch gathers each batch's windows from
   one on-device matrix with an index, as qts does. qts runs `qts_models::train` for one epoch
   (its time excludes the 64-window validation pass that follows).
2. Prediction latency: one window, no_grad, eval mode (median of 2,000 after 100 warm-ups),
   and a batch of 256 windows (throughput).

Each measurement alternates qts and PyTorch several times (3 epochs, 5 latency runs) and keeps
the median, since two cores shared with the rest of the machine make single runs noisy.
Prints each time and the ratio qts / PyTorch (below 1: qts is faster).
"""

import json
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

WIDTH, LOOKBACK, WINDOWS, BATCH = 20, 60, 20_000, 64


class LstmNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(WIDTH, 128, 2, batch_first=True, dropout=0.2)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(128, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(self.dropout(out[:, -1, :])).squeeze(-1)


DEVICE = "cpu"


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def torch_epoch():
    torch.manual_seed(1)
    rows = WINDOWS + LOOKBACK
    values = (torch.rand(rows, WIDTH) - 0.5).to(DEVICE)
    targets = ((torch.rand(rows) - 0.5) * 0.02).to(DEVICE)
    model = LstmNet().to(DEVICE)
    scaler = torch.amp.GradScaler(enabled=DEVICE == "cuda")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    offsets = torch.arange(1 - LOOKBACK, 1, device=DEVICE)
    ends = torch.arange(LOOKBACK - 1, LOOKBACK - 1 + WINDOWS, device=DEVICE)
    start = time.perf_counter()
    cpu = time.process_time()
    model.train()
    order = ends[torch.randperm(WINDOWS, device=DEVICE)]
    for b in range(0, WINDOWS, BATCH):
        idx = order[b:b + BATCH]
        x = values[(idx.unsqueeze(1) + offsets).reshape(-1)].view(len(idx), LOOKBACK, WIDTH)
        y = targets[idx]
        # Mixed precision on CUDA, as qts's training.mixed_precision default.
        with torch.autocast(DEVICE, enabled=DEVICE == "cuda"):
            loss = nn.functional.mse_loss(model(x).float(), y)
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
    sync()
    return time.perf_counter() - start, time.process_time() - cpu


def torch_latency():
    model = LstmNet().to(DEVICE).eval()
    x = torch.rand(1, LOOKBACK, WIDTH)
    xb = torch.rand(256, LOOKBACK, WIDTH)
    with torch.no_grad():
        for _ in range(100):
            model(x)
        times = []
        for _ in range(2000):
            s = time.perf_counter()
            model(x.to(DEVICE)).item()
            times.append(time.perf_counter() - s)
        model(xb.to(DEVICE))
        reps = 20
        s = time.perf_counter()
        for _ in range(reps):
            model(xb.to(DEVICE)).tolist()
        batch = (time.perf_counter() - s) / reps
    return statistics.median(times), batch


def main(binary, threads, device):
    global DEVICE
    DEVICE = device
    torch.set_num_threads(threads)
    extra = [device] if device == "cuda" else []
    med = statistics.median
    ours_e, theirs_e, ours_c, theirs_c = [], [], [], []
    for _ in range(3):
        o = json.loads(subprocess.check_output([binary, "epoch", str(threads)] + extra))
        ours_e.append(round(o["epoch_seconds"], 2))
        ours_c.append(round(o["cpu_seconds"], 2))
        wall, cpu = torch_epoch()
        theirs_e.append(round(wall, 2))
        theirs_c.append(round(cpu, 2))
    ours_l, ours_b, theirs_l, theirs_b = [], [], [], []
    for _ in range(5):
        o = json.loads(subprocess.check_output([binary, "latency", str(threads)] + extra))
        ours_l.append(o["latency_median_seconds"])
        ours_b.append(o["batch256_seconds"])
        t, b = torch_latency()
        theirs_l.append(t)
        theirs_b.append(b)
    e, te = med(ours_e), med(theirs_e)
    print(f"torch {torch.__version__}, {device}, {threads} threads, medians of alternating runs")
    print(f"one epoch (20,000 windows, batch 64): qts {e:.2f} s, PyTorch {te:.2f} s, "
          f"ratio qts/PyTorch {e / te:.2f}   (runs: qts {ours_e}, PyTorch {theirs_e})")
    c, tc = med(ours_c), med(theirs_c)
    print(f"  CPU time (all threads; qts's includes setup and a 64-window validation): qts {c:.2f} s, "
          f"PyTorch {tc:.2f} s, ratio {c / tc:.2f}   (runs: qts {ours_c}, PyTorch {theirs_c})")
    lat, tl = med(ours_l), med(theirs_l)
    print(f"one window, median latency: qts {lat * 1e3:.3f} ms, PyTorch {tl * 1e3:.3f} ms, ratio {lat / tl:.2f}")
    b, tb = med(ours_b), med(theirs_b)
    print(f"batch of 256: qts {b * 1e3:.2f} ms ({256 / b:,.0f} windows/s), PyTorch {tb * 1e3:.2f} ms "
          f"({256 / tb:,.0f} windows/s), ratio {b / tb:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2,
         sys.argv[3] if len(sys.argv) > 3 else "cpu")
