"""Writes crates/models/tests/golden/lr_schedules.json: the learning rate PyTorch uses in each
epoch for the schedules qts implements, which crates/models/tests/lr_golden.rs replays.

Run:  "$(scripts/golden/setup_venv.sh)" -m pip install torch==2.13.0 &&
      "$(scripts/golden/setup_venv.sh)" scripts/golden/torch_lr_schedules.py

Each case: an SGD optimizer with lr 0.01 on one parameter, the scheduler(s) as qts builds them
from `model.training` (warm-up = LinearLR(1/(W+1), 1.0, W) then the schedule, chained with
SequentialLR at epoch W), stepped once per epoch (ReduceLROnPlateau with the given losses).
"""

import json
import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "models" / "tests" / "golden" / "lr_schedules.json"
EPOCHS = 40
LOSSES = [1.0, 0.9, 0.85, 0.86, 0.87, 0.88, 0.849, 0.84, 0.84, 0.84, 0.84, 0.84, 0.83, 0.83, 0.83,
          0.83, 0.83, 0.83, 0.83, 0.83] * 2


def make(case, opt):
    kind, w = case["schedule"], case["warmup_epochs"]
    if kind == "constant":
        main = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    elif kind == "step":
        main = torch.optim.lr_scheduler.StepLR(opt, step_size=case["step_size"], gamma=case["gamma"])
    elif kind == "cosine":
        main = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS - w, eta_min=case["min_lr"])
    else:
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=case["gamma"], patience=case["plateau_patience"], min_lr=case["min_lr"])
    if w == 0:
        return main
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / (w + 1), end_factor=1.0, total_iters=w)
    return torch.optim.lr_scheduler.SequentialLR(opt, [warm, main], milestones=[w])


def run(case):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.01)
    sched = make(case, opt)
    lrs = []
    for e in range(EPOCHS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if case["schedule"] == "reduce_on_plateau":
            sched.step(LOSSES[e])
        else:
            sched.step()
    return lrs


CASES = [
    {"schedule": "constant", "warmup_epochs": 0},
    {"schedule": "step", "warmup_epochs": 0, "step_size": 7, "gamma": 0.5},
    {"schedule": "step", "warmup_epochs": 3, "step_size": 5, "gamma": 0.3},
    {"schedule": "cosine", "warmup_epochs": 0, "min_lr": 1e-5},
    {"schedule": "cosine", "warmup_epochs": 3, "min_lr": 1e-5},
    {"schedule": "cosine", "warmup_epochs": 5, "min_lr": 0.0},
    {"schedule": "reduce_on_plateau", "warmup_epochs": 0, "gamma": 0.5, "plateau_patience": 2, "min_lr": 1e-4},
]


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cases = [dict(c, lr=0.01, epochs=EPOCHS, lrs=run(c)) for c in CASES]
    OUT.write_text(json.dumps({"torch": torch.__version__, "losses": LOSSES, "cases": cases}, indent=1) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(cases)} cases (torch {torch.__version__})")


if __name__ == "__main__":
    main()
