"""Example app 4: GPU and distributed training (one stack, ``GpuTraining``). See README.md next to this file."""
