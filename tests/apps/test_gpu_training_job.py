"""The GPU training job code: the launcher turns AWS Batch's environment into the right torchrun command and NCCL/EFA
environment, and refuses a broken environment with a message that says what to fix. No GPU or torch is needed."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from apps.gpu_training.job import launch, train
from apps.gpu_training.job.launch import LaunchError, build_launch

MAIN_IP = "10.0.17.42"

#: What AWS Batch and the job definition give node 0 (the main node) of a 4-node g5.48xlarge job. No main-node
#: address: AWS sets AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS on the other nodes only.
MAIN_NODE: dict[str, str] = {
    "AWS_BATCH_JOB_ID": "0b7a4c1e-6f0f-4b8e-9f57-2f3a1d9c8e10#0",
    "AWS_BATCH_JOB_NUM_NODES": "4",
    "AWS_BATCH_JOB_NODE_INDEX": "0",
    "AWS_BATCH_JOB_MAIN_NODE_INDEX": "0",
    "NVIDIA_VISIBLE_DEVICES": ",".join(f"GPU-{i:08x}-1111-2222-3333-444455556666" for i in range(8)),
    "GPUS_PER_NODE": "8",
    "TRAINING_EFA": "1",
    "TRAINING_INSTANCE_TYPE": "g5.48xlarge",
    "PATH": "/opt/amazon/efa/bin:/usr/bin",
}


def worker(index: int, **overrides: str) -> dict[str, str]:
    env = {
        **MAIN_NODE,
        "AWS_BATCH_JOB_ID": f"0b7a4c1e-6f0f-4b8e-9f57-2f3a1d9c8e10#{index}",
        "AWS_BATCH_JOB_NODE_INDEX": str(index),
        "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": MAIN_IP,
    }
    env.update(overrides)
    return env


def own_address() -> str:
    return MAIN_IP


def efa_present(path: str) -> bool:
    return path == "/dev/infiniband/uverbs0"


def plenty_of_shm() -> int:
    return 16 << 30


def run(env: dict[str, str], args: tuple[str, ...] = ("--steps", "500"), **kwargs: Any) -> launch.Launch:
    kwargs.setdefault("local_address", own_address)
    kwargs.setdefault("device_exists", efa_present)
    kwargs.setdefault("shm_bytes", plenty_of_shm)
    return build_launch(env, args, **kwargs)


# --- the happy paths -------------------------------------------------------------------------------------------------


def test_main_node_hosts_the_rendezvous_on_its_own_address() -> None:
    result = run(MAIN_NODE)
    assert result.command == [
        "torchrun",
        "--nnodes=4",
        "--node-rank=0",
        f"--master-addr={MAIN_IP}",
        "--master-port=29500",
        "--nproc-per-node=8",
        "--module",
        "job.train",
        "--steps",
        "500",
    ]
    expected = {
        "MASTER_ADDR": MAIN_IP,
        "MASTER_PORT": "29500",
        "NODE_RANK": "0",
        "WORLD_SIZE": "32",
        "FI_PROVIDER": "efa",
        "NCCL_DEBUG": "INFO",
    }
    assert {k: result.environment[k] for k in expected} == expected
    # g5 has EFA without GPUDirect RDMA: the RDMA switch stays off
    assert "FI_EFA_USE_DEVICE_RDMA" not in result.environment
    # the node's own environment reaches torchrun untouched
    assert result.environment["PATH"] == MAIN_NODE["PATH"]
    assert result.environment["AWS_BATCH_JOB_ID"] == MAIN_NODE["AWS_BATCH_JOB_ID"]
    assert result.warnings == ()


def test_worker_node_joins_the_main_nodes_address() -> None:
    def must_not_be_called() -> str:
        raise AssertionError("a worker uses the address AWS Batch gives it, not its own")

    result = run(worker(3), local_address=must_not_be_called)
    assert result.command[:6] == [
        "torchrun",
        "--nnodes=4",
        "--node-rank=3",
        f"--master-addr={MAIN_IP}",
        "--master-port=29500",
        "--nproc-per-node=8",
    ]
    assert result.environment["MASTER_ADDR"] == MAIN_IP
    assert result.environment["NODE_RANK"] == "3"
    assert result.environment["WORLD_SIZE"] == "32"


def test_ranks_count_from_the_main_node_when_it_is_not_node_zero() -> None:
    # torchrun's static rendezvous serves its store from node rank 0, which must be the main node
    main_is_two = {"AWS_BATCH_JOB_MAIN_NODE_INDEX": "2"}
    ranks = {}
    for index in range(4):
        env = {**MAIN_NODE, **main_is_two} if index == 2 else worker(index, **main_is_two)
        env["AWS_BATCH_JOB_NODE_INDEX"] = str(index)
        ranks[index] = run(env).rendezvous.node_rank
    assert ranks == {2: 0, 3: 1, 0: 2, 1: 3}


def test_rdma_capable_instances_turn_on_gpudirect_rdma() -> None:
    result = run(worker(1, TRAINING_INSTANCE_TYPE="p4d.24xlarge"))
    assert result.environment["FI_EFA_USE_DEVICE_RDMA"] == "1"
    assert result.environment["FI_PROVIDER"] == "efa"


def test_submitted_tuning_values_win_but_the_rendezvous_is_always_computed() -> None:
    env = worker(1, NCCL_DEBUG="WARN", FI_PROVIDER="tcp", MASTER_ADDR="10.9.9.9", WORLD_SIZE="1")
    result = run(env)
    assert result.environment["NCCL_DEBUG"] == "WARN"
    assert result.environment["FI_PROVIDER"] == "tcp"
    assert result.environment["MASTER_ADDR"] == MAIN_IP
    assert result.environment["WORLD_SIZE"] == "32"


def test_a_vpc_in_the_shared_address_range_is_private_enough() -> None:
    # VPCs may add a 100.64.0.0/10 CIDR; Python's is_private says False for it, a VPC address all the same
    assert run(worker(1, AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS="100.64.3.7")).rendezvous.master_addr == (
        "100.64.3.7"
    )


def test_custom_master_port() -> None:
    result = run(worker(1, TRAINING_MASTER_PORT="23456"))
    assert "--master-port=23456" in result.command
    assert result.environment["MASTER_PORT"] == "23456"


def test_without_efa_no_libfabric_settings_and_no_device_needed() -> None:
    env = worker(2, TRAINING_EFA="0")
    result = run(env, device_exists=lambda _: False)
    assert "FI_PROVIDER" not in result.environment
    assert "--node-rank=2" in result.command


def test_single_node_job_runs_torchrun_standalone_on_the_assigned_gpus() -> None:
    # a plain GPU job: no multi-node variables, ECS assigned one GPU, no GPUS_PER_NODE
    env = {"NVIDIA_VISIBLE_DEVICES": "GPU-5e0d2f7a-1111-2222-3333-444455556666", "AWS_BATCH_JOB_ID": "abc"}
    result = run(env, args=("--steps", "50"), local_address=lambda: pytest.fail("no address lookup on one node"))
    assert result.command == [
        "torchrun",
        "--standalone",
        "--nnodes=1",
        "--nproc-per-node=1",
        "--module",
        "job.train",
        "--steps",
        "50",
    ]
    assert result.environment["WORLD_SIZE"] == "1"
    assert result.environment["NODE_RANK"] == "0"
    assert result.environment["MASTER_ADDR"] == "127.0.0.1"


def test_small_shared_memory_gives_a_warning_with_the_fix() -> None:
    result = run(MAIN_NODE, shm_bytes=lambda: 64 << 20)
    assert len(result.warnings) == 1
    assert "64 MiB" in result.warnings[0]
    assert "sharedMemorySize" in result.warnings[0]
    # one process per node needs no shared memory between processes
    single = run({"GPUS_PER_NODE": "1"}, shm_bytes=lambda: 64 << 20)
    assert single.warnings == ()


# --- broken environments: clear errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AWS_BATCH_JOB_NODE_INDEX": None}, r"AWS_BATCH_JOB_NODE_INDEX is not set"),
        ({"AWS_BATCH_JOB_MAIN_NODE_INDEX": None}, r"AWS_BATCH_JOB_MAIN_NODE_INDEX is not set"),
        ({"AWS_BATCH_JOB_NUM_NODES": "four"}, r"AWS_BATCH_JOB_NUM_NODES='four' is not an integer"),
        ({"AWS_BATCH_JOB_NUM_NODES": "1_0"}, r"AWS_BATCH_JOB_NUM_NODES='1_0' is not an integer"),
        ({"AWS_BATCH_JOB_NODE_INDEX": "\u0663"}, r"AWS_BATCH_JOB_NODE_INDEX='\u0663' is not an integer"),
        ({"AWS_BATCH_JOB_NUM_NODES": "0"}, r"AWS_BATCH_JOB_NUM_NODES=0 is out of range"),
        ({"AWS_BATCH_JOB_NODE_INDEX": "4"}, r"AWS_BATCH_JOB_NODE_INDEX=4 is out of range \(expected 0\.\.3\)"),
        ({"AWS_BATCH_JOB_MAIN_NODE_INDEX": "-1"}, r"AWS_BATCH_JOB_MAIN_NODE_INDEX=-1 is out of range"),
        ({"AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": None}, r"PRIVATE_IPV4_ADDRESS is not set on node 1"),
        ({"AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": "main-node"}, r"'main-node' is not a private IPv4"),
        ({"AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": "8.8.8.8"}, r"'8.8.8.8' is not a private IPv4"),
        ({"AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": "169.254.1.1"}, r"'169.254.1.1' is not a private IPv4"),
        ({"GPUS_PER_NODE": "0"}, r"GPUS_PER_NODE=0 is out of range"),
        ({"GPUS_PER_NODE": "16"}, r"GPUS_PER_NODE=16, but the container sees 8 GPU\(s\).*Fix: request 16 GPUs"),
        ({"TRAINING_MASTER_PORT": "80"}, r"TRAINING_MASTER_PORT=80 is out of range \(expected 1024\.\.65535\)"),
        ({"TRAINING_EFA": "maybe"}, r"TRAINING_EFA='maybe' is not a boolean"),
    ],
)
def test_invalid_worker_environment_is_refused(change: dict[str, str | None], message: str) -> None:
    env = worker(1)
    for name, value in change.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    with pytest.raises(LaunchError, match=message):
        run(env)


def test_missing_efa_device_names_the_fix() -> None:
    with pytest.raises(LaunchError, match=r"/dev/infiniband/uverbs0 is not in the container\. Fix: map the device"):
        run(worker(1), device_exists=lambda _: False)


def test_no_gpu_information_at_all_is_refused() -> None:
    env = {k: v for k, v in worker(1).items() if k not in ("GPUS_PER_NODE", "NVIDIA_VISIBLE_DEVICES")}
    with pytest.raises(LaunchError, match=r"cannot tell how many GPUs.*Fix: set GPUS_PER_NODE"):
        run(env)


def test_main_node_without_a_reachable_address_is_refused() -> None:
    with pytest.raises(LaunchError, match=r"own address '127.0.0.1' is not a private IPv4"):
        run(MAIN_NODE, local_address=lambda: "127.0.0.1")

    def no_route() -> str:
        raise OSError("Network is unreachable")

    with pytest.raises(LaunchError, match=r"cannot be found: Network is unreachable"):
        run(MAIN_NODE, local_address=no_route)


def test_multi_node_variables_without_the_node_count_are_refused() -> None:
    env = {
        "GPUS_PER_NODE": "1",
        "AWS_BATCH_JOB_NODE_INDEX": "1",
        "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS": MAIN_IP,
    }
    with pytest.raises(
        LaunchError, match=r"AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS, AWS_BATCH_JOB_NODE_INDEX set "
    ):
        run(env)


# --- main(): exec, or exit 2 with the message ------------------------------------------------------------------------


def test_main_execs_torchrun_with_the_built_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in worker(2, TRAINING_EFA="0").items():  # no EFA device check on this machine
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(launch, "_shm_bytes", plenty_of_shm)
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    def fake_exec(file: str, args: list[str], env: dict[str, str]) -> None:
        calls.append((file, args, env))
        raise SystemExit(0)  # execvpe never returns

    monkeypatch.setattr(os, "execvpe", fake_exec)
    with pytest.raises(SystemExit):
        launch.main(["--", "--steps", "10"])
    [(file, args, env)] = calls
    assert file == "torchrun"
    assert args[-2:] == ["--steps", "10"]
    assert "--node-rank=2" in args
    assert env["WORLD_SIZE"] == "32"
    assert env["MASTER_ADDR"] == MAIN_IP
    assert "FI_PROVIDER" not in env


def test_main_reports_a_bad_environment_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in worker(1).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS")
    monkeypatch.setattr(os, "execvpe", lambda *_: pytest.fail("must not exec"))
    with pytest.raises(SystemExit) as exit_info:
        launch.main([])
    assert exit_info.value.code == 2
    assert "launch: AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS is not set" in capsys.readouterr().err


# --- the trainer, without torch --------------------------------------------------------------------------------------


def test_trainer_arguments() -> None:
    config = train.parse_args(["--steps", "500", "--batch-size", "64", "--learning-rate", "0.01"])
    assert config == train.TrainConfig(steps=500, batch_size=64, learning_rate=0.01)
    assert train.parse_args([]) == train.TrainConfig()


@pytest.mark.parametrize("args", [["--steps", "0"], ["--batch-size", "-1"], ["--learning-rate", "0"], ["--steps", "x"]])
def test_trainer_rejects_bad_arguments(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(args)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_all_reduce_check_value() -> None:
    assert [train.expected_rank_sum(n) for n in (1, 2, 8, 32)] == [0, 1, 28, 496]


def test_trainer_loads_without_torch_and_says_so_when_run_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "torch" not in sys.modules  # importing the job package did not import torch
    monkeypatch.setitem(sys.modules, "torch", None)  # make `import torch` fail even where torch is installed
    with pytest.raises(SystemExit, match=r"torch is not installed"):
        train.main(["--steps", "1"])
