"""Writes crates/models/tests/golden/networks/*.safetensors: for each network qts builds, the
PyTorch module it claims to equal, its (seeded) weights, an input batch, PyTorch's output in
eval mode, and the gradient of the MSE (or cross-entropy) loss against a target with respect
to every parameter. crates/models/tests/network_golden.rs loads the weights into qts's
network and checks output and gradients.

Run:  "$(scripts/golden/setup_venv.sh)" -m pip install torch==2.13.0 &&
      "$(scripts/golden/setup_venv.sh)" scripts/golden/torch_networks.py

Each file holds the module's state_dict under its own names plus `__input` [B, L, F],
`__target`, `__output` and `__grad.<name>`; `cases.json` holds the settings.
"""

import json
import math
import pathlib

import torch
from safetensors.torch import save_file
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "models" / "tests" / "golden" / "networks"


class LstmNet(nn.Module):
    def __init__(self, n_in, hidden, layers, dropout, bidirectional, attention, layer_norm, n_out):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, layers, batch_first=True, bidirectional=bidirectional,
                            dropout=dropout if layers > 1 else 0.0)
        width = hidden * (2 if bidirectional else 1)
        self.attention = nn.Linear(width, 1) if attention else None
        self.norm = nn.LayerNorm(width) if layer_norm else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_out)

    def forward(self, x):
        out, _ = self.lstm(x)
        if self.attention is not None:
            w = torch.softmax(self.attention(out).squeeze(-1), dim=1)
            pooled = (w.unsqueeze(-1) * out).sum(1)
        else:
            pooled = out[:, -1, :]
        if self.norm is not None:
            pooled = self.norm(pooled)
        return self.head(self.dropout(pooled))


def positional_encoding(length, d):
    pe = torch.zeros(length, d)
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(pos * div).float()
    pe[:, 1::2] = torch.cos(pos * div).float()[:, : d // 2]
    return pe


class TransformerNet(nn.Module):
    def __init__(self, n_in, lookback, d_model, heads, layers, ff, dropout, n_out):
        super().__init__()
        self.input = nn.Linear(n_in, d_model)
        self.register_buffer("pe", positional_encoding(lookback, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_out)

    def forward(self, x):
        x = self.dropout(self.input(x) + self.pe[: x.shape[1]])
        return self.head(self.encoder(x).mean(dim=1))


class MlpNet(nn.Module):
    def __init__(self, n_in, lookback, hidden_sizes, dropout, n_out):
        super().__init__()
        widths = [n_in * lookback] + hidden_sizes
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(widths[-1], n_out)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.hidden:
            x = self.dropout(torch.relu(layer(x)))
        return self.head(x)


CASES = [
    dict(name="lstm_2layer", architecture="lstm", n_in=5, lookback=12, batch=4, outputs=1,
         lstm=dict(hidden_size=16, num_layers=2, dropout=0.2, bidirectional=False, attention=False,
                   layer_norm=False)),
    dict(name="lstm_bidirectional_attention_norm", architecture="lstm", n_in=3, lookback=9, batch=5,
         outputs=1,
         lstm=dict(hidden_size=8, num_layers=2, dropout=0.1, bidirectional=True, attention=True,
                   layer_norm=True)),
    dict(name="lstm_direction", architecture="lstm", n_in=4, lookback=10, batch=6, outputs=2,
         lstm=dict(hidden_size=12, num_layers=1, dropout=0.0, bidirectional=False, attention=False,
                   layer_norm=False)),
    dict(name="lstm_default_shape", architecture="lstm", n_in=20, lookback=60, batch=3, outputs=1,
         lstm=dict(hidden_size=128, num_layers=2, dropout=0.2, bidirectional=False, attention=False,
                   layer_norm=False)),
    dict(name="transformer", architecture="transformer", n_in=6, lookback=15, batch=4, outputs=1,
         transformer=dict(d_model=16, num_heads=4, num_layers=2, feedforward_size=32, dropout=0.1)),
    dict(name="transformer_direction", architecture="transformer", n_in=3, lookback=7, batch=3,
         outputs=2,
         transformer=dict(d_model=8, num_heads=2, num_layers=1, feedforward_size=16, dropout=0.0)),
    dict(name="mlp", architecture="mlp", n_in=4, lookback=6, batch=5, outputs=1,
         mlp=dict(hidden_sizes=[32, 16], dropout=0.1)),
]


def build(c):
    if c["architecture"] == "lstm":
        l = c["lstm"]
        return LstmNet(c["n_in"], l["hidden_size"], l["num_layers"], l["dropout"], l["bidirectional"],
                       l["attention"], l["layer_norm"], c["outputs"])
    if c["architecture"] == "transformer":
        t = c["transformer"]
        return TransformerNet(c["n_in"], c["lookback"], t["d_model"], t["num_heads"], t["num_layers"],
                              t["feedforward_size"], t["dropout"], c["outputs"])
    m = c["mlp"]
    return MlpNet(c["n_in"], c["lookback"], m["hidden_sizes"], m["dropout"], c["outputs"])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(20261125)
    for c in CASES:
        model = build(c)
        with torch.no_grad():  # layer norms away from 1/0 so they are really checked
            for name, p in model.named_parameters():
                if name.startswith("norm"):
                    p.add_(torch.randn_like(p) * 0.1)
        model.eval()
        x = torch.randn(c["batch"], c["lookback"], c["n_in"])
        if c["outputs"] == 2:
            target = torch.randint(0, 2, (c["batch"],)).float()
        else:
            target = torch.randn(c["batch"]) * 0.01
        with torch.no_grad():
            out = model(x)
        out_grad = model(x)
        if c["outputs"] == 2:
            loss = nn.functional.cross_entropy(out_grad, target.long())
        else:
            loss = nn.functional.mse_loss(out_grad.squeeze(-1), target)
        loss.backward()
        tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        tensors["__input"] = x
        tensors["__target"] = target
        tensors["__output"] = out.squeeze(-1) if c["outputs"] == 1 else out
        for name, p in model.named_parameters():
            tensors[f"__grad.{name}"] = p.grad.contiguous()
        save_file(tensors, str(OUT / f"{c['name']}.safetensors"))
        print(c["name"], tuple(out.shape), loss.item())
    (OUT / "cases.json").write_text(json.dumps({"torch": torch.__version__, "cases": CASES}, indent=1) + "\n")
    user_model()


def user_model():
    """The user's own PyTorch LSTM, saved with torch.save(model.state_dict(), …), a CSV of its
    input features and its predictions: `qts models import --pytorch` then
    `qts predict --inputs-as-is` must reproduce them (crates/cli/tests/models_torch.rs)."""
    import datetime

    torch.manual_seed(7)
    model = LstmNet(4, 8, 2, 0.0, False, False, False, 1).eval()
    torch.save(model.state_dict(), OUT / "user_lstm.pt")
    rows, lookback = 40, 20
    x = torch.randn(rows, 4)
    day = datetime.date(2024, 1, 2)
    dates = []
    while len(dates) < rows:
        if day.weekday() < 5:
            dates.append(day.isoformat())
        day += datetime.timedelta(days=1)
    with open(OUT / "user_lstm_inputs.csv", "w") as f:
        f.write("date,ret_1,ret_5,vol_20,rsi_14\n")
        for d, r in zip(dates, x.tolist()):
            f.write(d + "," + ",".join(repr(v) for v in r) + "\n")
    # The CSV holds float64 text of float32 values: the same numbers reach both sides.
    windows = torch.stack([x[t - lookback + 1: t + 1] for t in range(lookback - 1, rows)])
    with torch.no_grad():
        pred = model(windows).squeeze(-1)
    with open(OUT / "user_lstm_predictions.csv", "w") as f:
        f.write("date,prediction\n")
        for d, p in zip(dates[lookback - 1:], pred.tolist()):
            f.write(f"{d},{p!r}\n")
    (OUT / "user_lstm.yaml").write_text(
        "# The configuration the user's LSTM is imported with (hidden 8, 2 layers, lookback 20).\n"
        "architecture: lstm\nlstm:\n  hidden_size: 8\n  num_layers: 2\n  dropout: 0.0\n"
        "data:\n  lookback: 20\n  purge_gap: 20\n")


if __name__ == "__main__":
    main()
