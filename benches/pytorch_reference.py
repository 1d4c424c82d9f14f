"""The workloads of `cargo bench --bench learning`, in PyTorch on the CPU, for ratios.

Setup: python3 -m venv .venv && .venv/bin/pip install torch
Run:   .venv/bin/python benches/pytorch_reference.py   (same thread count as the Rust run:
       torch uses all cores by default, as dfdx's rayon pool does)
"""
import time

import torch

B, OBS, ACT = 256, 11, 3


def rate(fn, secs=4.0):
    for _ in range(3):
        fn()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < secs:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


class Ensemble(torch.nn.Module):
    """E members as one batched matmul per layer, [E, B, in] x [E, in, out] (MBRL-Lib style)."""

    def __init__(self, members, widths, act):
        super().__init__()
        self.w = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(members, i, o) / (2 * i ** 0.5)) for i, o in zip(widths, widths[1:])])
        self.b = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(members, 1, o)) for o in widths[1:]])
        self.act = act

    def forward(self, x):
        for k, (w, b) in enumerate(zip(self.w, self.b)):
            x = torch.baddbmm(b, x, w)
            if k < len(self.w) - 1:
                x = self.act(x)
        return x


def ensemble_step(hidden):
    net = Ensemble(7, [OBS + ACT, *hidden, OBS + 1], torch.nn.functional.silu)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=5e-5)
    x, y = torch.randn(7, B, OBS + ACT), torch.randn(7, B, OBS + 1)

    def step():
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    return rate(step)


def critic_step():
    net = torch.nn.Sequential(torch.nn.Linear(OBS + ACT, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                              torch.nn.ReLU(), torch.nn.Linear(256, 1))
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)
    x, y = torch.randn(B, OBS + ACT), torch.randn(B, 1)

    def step():
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
    return rate(step), net


def value_gradient(net):
    x = torch.randn(B, OBS + ACT)

    def grad():
        xs = x.clone().requires_grad_(True)
        torch.autograd.grad(net(xs).sum(), xs)
    return rate(grad)


def sgemm():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return rate(lambda: a @ b, 3.0) * 2 * 1024 ** 3 / 1e9


if __name__ == "__main__":
    # Subnormals flushed, as the Rust side does (decayed weights would otherwise slow both).
    torch.set_flush_denormal(True)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, flush denormals on")
    print(f"sgemm 1024^3: {sgemm():.1f} GFLOP/s")
    for name, hidden in [("7x(4x200)", [200] * 4), ("7x(2x64)", [64] * 2), ("7x(3x64)", [64] * 3)]:
        print(f"{name} ensemble train step: {ensemble_step(hidden):.0f}/s")
    steps, net = critic_step()
    print(f"critic 14-256-256-1 train step: {steps:.0f}/s")
    print(f"dV/ds 14-256-256-1: {value_gradient(net):.0f}/s")
