"""Writes crates/models/tests/golden/optim.safetensors: what torch.optim.Adam / AdamW and
torch.nn.utils.clip_grad_norm_ do to fixed parameters given a fixed sequence of gradients,
replayed by crates/models/tests/optim_golden.rs against qts's own optimiser.

Run:  "$(scripts/golden/setup_venv.sh)" -m pip install torch==2.13.0 &&
      "$(scripts/golden/setup_venv.sh)" scripts/golden/torch_optim.py

Two parameters (a matrix and a vector), 12 steps with learning rates 1e-2 then decaying; each
step's gradients are clipped to global norm 0.5 first (most steps' raw norms exceed it, some do
not). Cases: Adam, Adam with L2 weight decay 0.05, AdamW with decoupled decay 0.05.
File keys: `p0.a`, `p0.b`, `grad.{t}.a`, `grad.{t}.b`, `lr` [steps], and for each case
`{case}.a`, `{case}.b` (the parameters after the last step) and `{case}.clipped.0.a` (the
first step's gradient after clipping).
"""

import pathlib

import torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "models" / "tests" / "golden" / "optim.safetensors"
STEPS = 12


def main():
    g = torch.Generator().manual_seed(11)
    p0 = {"a": torch.randn(5, 3, generator=g), "b": torch.randn(4, generator=g)}
    # Some steps large (clipped), some small (not).
    grads = [{k: torch.randn(v.shape, generator=g) * (0.05 if t % 3 == 2 else 1.0)
              for k, v in p0.items()} for t in range(STEPS)]
    lrs = torch.tensor([1e-2 * 0.9 ** t for t in range(STEPS)], dtype=torch.float64)
    out = {f"p0.{k}": v for k, v in p0.items()}
    for t, gr in enumerate(grads):
        for k, v in gr.items():
            out[f"grad.{t}.{k}"] = v
    out["lr"] = lrs
    cases = {
        "adam": lambda ps: torch.optim.Adam(ps, lr=1e-2, foreach=False),
        "adam_l2": lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.05, foreach=False),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.05, foreach=False),
    }
    for name, make in cases.items():
        params = {k: v.clone().requires_grad_(True) for k, v in p0.items()}
        opt = make(list(params.values()))
        for t in range(STEPS):
            for group in opt.param_groups:
                group["lr"] = float(lrs[t])
            for k, p in params.items():
                p.grad = grads[t][k].clone()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 0.5)
            if t == 0:
                for k, p in params.items():
                    out[f"{name}.clipped.0.{k}"] = p.grad.clone()
            opt.step()
        for k, p in params.items():
            out[f"{name}.{k}"] = p.detach().clone()
    save_file({k: v.contiguous() for k, v in out.items()}, str(OUT))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
