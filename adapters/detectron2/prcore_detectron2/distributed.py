"""Several processes/machines: detectron2's ``launch`` on GPUs, the same shape on CPUs.

detectron2 0.6's ``launch`` asserts CUDA and uses NCCL. On CPU we spawn the
same way with the gloo backend and set up detectron2's local process group so
that ``detectron2.utils.comm`` works unchanged.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from prcore_detectron2.errors import AdapterInputError


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(
    main_func,
    num_procs: int,
    num_machines: int,
    machine_rank: int,
    dist_url: str,
    device: str,
    args=(),
) -> None:
    world = num_procs * num_machines
    if world <= 1:
        main_func(*args)
        return
    if dist_url == "auto":
        if num_machines != 1:
            raise ValueError("--dist-url auto only works on one machine")
        dist_url = f"tcp://127.0.0.1:{_free_port()}"
    import torch.multiprocessing as mp

    # A rank's input error travels back through this queue, so the parent raises it
    # as one line; a raising rank would make spawn log and kill the others instead.
    errors = mp.get_context("spawn").SimpleQueue()
    wrapped = (main_func, errors, args)
    if device.startswith("cuda"):
        from detectron2.engine import launch as d2_launch

        d2_launch(
            _report_input_errors, num_procs, num_machines, machine_rank, dist_url, args=wrapped
        )
    else:
        mp.spawn(
            _cpu_worker,
            nprocs=num_procs,
            args=(_report_input_errors, world, num_procs, machine_rank, dist_url, wrapped),
            daemon=False,
        )
    if not errors.empty():
        raise AdapterInputError(errors.get())


def _report_input_errors(main_func, errors, args) -> None:
    try:
        main_func(*args)
    except AdapterInputError as e:
        errors.put(str(e))


def _cpu_worker(local_rank, main_func, world, num_procs, machine_rank, dist_url, args):
    import torch.distributed as dist
    from detectron2.utils import comm

    rank = machine_rank * num_procs + local_rank
    dist.init_process_group(
        backend="gloo",
        init_method=dist_url,
        world_size=world,
        rank=rank,
        timeout=timedelta(minutes=30),
    )
    for i in range(world // num_procs):
        group = dist.new_group(list(range(i * num_procs, (i + 1) * num_procs)))
        if i == machine_rank:
            comm._LOCAL_PROCESS_GROUP = group
    comm.synchronize()
    try:
        main_func(*args)
    finally:
        dist.destroy_process_group()
