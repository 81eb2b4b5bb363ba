"""Integration test of GPU training, cheap by default: the stack deploys and Batch accepts its environments and queues.

GPU and EFA instances cost real money (a g5.xlarge about 1 USD an hour, one g5.48xlarge about 16 USD an hour, and the
distributed job needs four at once, rarely available On-Demand without a capacity reservation). So by default the
test only deploys the stack (VPC, the GPU and EFA environments at 0 vCPUs: no instance runs) and asserts that Batch
reports both environments ``VALID``/``ENABLED`` and both queues ``VALID``/``ENABLED``: what CloudFormation alone does
not prove (an environment can be created and still be ``INVALID``, e.g. for an instance type the region lacks).

Opt in to one real single-GPU job with ``BATCH_CONSTRUCTS_INTEG_GPU_JOB=1`` (``make integ INTEG_GPU_JOB=1``): the
assertion stack submits ``SingleGpuJob`` with 20 steps and waits up to 45 minutes for ``SUCCEEDED``. It needs a
"Running On-Demand G and VT instances" quota of at least 4 vCPUs in the region, and adds about 0.5 USD. The
multi-node EFA job is never started by a test.
"""

from __future__ import annotations

import os
from typing import Final

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from apps.gpu_training.stack import GpuTrainingStack
from integ._common import SHORT_TIMEOUT, disposable, integ_test, main, wait_until

#: Set to 1 to also run one single-GPU job (see the module docstring). Read at synth time.
GPU_JOB_VARIABLE: Final = "BATCH_CONSTRUCTS_INTEG_GPU_JOB"
#: A GPU instance takes longer than a CPU one to join (bigger AMI, NVIDIA driver start), and the image is larger.
GPU_JOB_TIMEOUT: Final = cdk.Duration.minutes(45)


def build(app: cdk.App) -> integ.IntegTest:
    stack = GpuTrainingStack(app, "IntegGpuTraining")
    disposable(stack)
    test = integ_test(app, "GpuTraining", [stack])

    # THEN Batch accepts both environments (polled briefly: a new environment can be CREATING for a minute) ...
    usable = integ.Match.object_like({"state": "ENABLED", "status": "VALID"})
    environments = wait_until(
        test.assertions.aws_api_call(
            "Batch",
            "describeComputeEnvironments",
            {
                "computeEnvironments": [
                    stack.gpu_environment.compute_environment.compute_environment_arn,
                    stack.efa_environment.compute_environment.compute_environment_arn,
                ]
            },
        ),
        integ.ExpectedResult.object_like({"computeEnvironments": [usable, usable]}),
        timeout=SHORT_TIMEOUT,
    )
    # ... AND both queues
    queues = wait_until(
        test.assertions.aws_api_call(
            "Batch", "describeJobQueues", {"jobQueues": [stack.gpu_queue.job_queue_arn, stack.efa_queue.job_queue_arn]}
        ),
        integ.ExpectedResult.object_like({"jobQueues": [usable, usable]}),
        timeout=SHORT_TIMEOUT,
    )
    environments.next(queues)

    if os.environ.get(GPU_JOB_VARIABLE) == "1":
        # AND (opt-in) a single-GPU job runs to SUCCEEDED
        submit = test.assertions.aws_api_call(
            "Batch",
            "submitJob",
            {
                "jobName": "integ-single-gpu",
                "jobQueue": stack.gpu_queue.job_queue_arn,
                "jobDefinition": stack.single_gpu_job.job_definition_arn,
                "parameters": {"steps": "20"},
            },
        )
        finished = wait_until(
            test.assertions.aws_api_call("Batch", "describeJobs", {"jobs": [submit.get_att_string("jobId")]}),
            integ.ExpectedResult.object_like(
                {"jobs": integ.Match.array_with([integ.Match.object_like({"status": "SUCCEEDED"})])}
            ),
            timeout=GPU_JOB_TIMEOUT,
        )
        queues.next(submit).next(finished)
    return test


if __name__ == "__main__":
    main(build)
