"""A tiny data-parallel trainer: proves the GPUs, NCCL and (across nodes) EFA work, then trains a small model.

torchrun starts one copy per GPU with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set. Each copy:

1. joins the process group (NCCL on GPUs, Gloo on CPU for a dry run);
2. checks communication: an all-reduce of every rank's number must equal 0 + 1 + ... + (world size - 1);
3. fits a small regression model on synthetic data with DistributedDataParallel, logging the loss from rank 0.

torch is imported inside :func:`main` only, so this module (its argument parsing and checks) loads without it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """What one run does; every field has a command-line flag."""

    steps: int = 200
    batch_size: int = 256
    features: int = 1024
    learning_rate: float = 1e-3
    log_every: int = 20
    seed: int = 0


def parse_args(argv: Sequence[str]) -> TrainConfig:
    """The run's configuration from the command line (``--steps 500``, ...); invalid values exit with status 2."""
    parser = argparse.ArgumentParser(prog="job.train", description=__doc__.splitlines()[0] if __doc__ else None)
    defaults = TrainConfig()
    parser.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="samples per GPU per step")
    parser.add_argument("--features", type=int, default=defaults.features, help="input width of the model")
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--log-every", type=int, default=defaults.log_every, help="log the loss every N steps")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    ns = parser.parse_args(list(argv))
    for name in ("steps", "batch_size", "features", "log_every"):
        if getattr(ns, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(ns, name)})")
    if not ns.learning_rate > 0:
        parser.error(f"--learning-rate must be positive (got {ns.learning_rate})")
    return TrainConfig(ns.steps, ns.batch_size, ns.features, ns.learning_rate, ns.log_every, ns.seed)


def expected_rank_sum(world_size: int) -> int:
    """What the all-reduce check must return: the sum of all ranks."""
    return world_size * (world_size - 1) // 2


def _import_torch() -> Any:
    try:
        import torch  # type: ignore[import-not-found,unused-ignore]  # lazy: the image has torch, tests do not
    except ImportError:
        raise SystemExit(
            "train: torch is not installed. Run the trainer in the job's container image (see job/Dockerfile)."
        ) from None
    return torch


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(sys.argv[1:] if argv is None else argv)
    torch = _import_torch()
    import torch.distributed as dist  # type: ignore[import-not-found,unused-ignore]
    from torch.nn.parallel import DistributedDataParallel  # type: ignore[import-not-found,unused-ignore]

    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    try:
        check = torch.tensor([float(rank)], device=device)
        dist.all_reduce(check)
        if int(check.item()) != expected_rank_sum(world_size):
            raise SystemExit(f"train: all-reduce returned {check.item()}, expected {expected_rank_sum(world_size)}")
        if rank == 0:
            print(f"train: all-reduce across {world_size} process(es) OK", flush=True)

        torch.manual_seed(config.seed)
        true_weights = torch.randn(config.features, 1, device=device)
        torch.manual_seed(config.seed + 1 + rank)  # each rank sees different data, as in real data parallelism
        model = DistributedDataParallel(
            torch.nn.Linear(config.features, 1).to(device), device_ids=[local_rank] if use_cuda else None
        )
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        started = time.monotonic()
        for step in range(1, config.steps + 1):
            inputs = torch.randn(config.batch_size, config.features, device=device)
            loss = torch.nn.functional.mse_loss(model(inputs), inputs @ true_weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if rank == 0 and (step % config.log_every == 0 or step == config.steps):
                print(f"train: step {step}/{config.steps} loss {loss.item():.4f}", flush=True)
        if rank == 0:
            print(f"train: done in {time.monotonic() - started:.1f}s on {world_size} process(es)", flush=True)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
