"""Secure and cost-aware defaults, in one place so that every construct agrees on them.

Each constant documents why it is the default. Constructs take an explicit override for each.
"""

from __future__ import annotations

from typing import Final, TypeVar

from aws_cdk import Duration, Size
from aws_cdk import aws_logs as logs

_T = TypeVar("_T")


def readable(value: _T, text: str) -> _T:
    """``value``, shown as ``text`` by ``repr`` (so ``help()`` prints ``memory: Size = Size.gibibytes(2)`` instead of
    an object address). The object becomes an instance of a subclass whose only addition is ``__repr__``; jsii passes
    it by reference as before."""
    cls: type = type(value)
    metaclass: type = type(cls)
    readable_cls: type = metaclass(cls.__name__, (cls,), {"__repr__": lambda _self: text, "__module__": cls.__module__})
    value.__class__ = readable_cls
    return value


#: Log retention for every log group the library creates. Security Hub's CloudWatch.16 control and the cdk-nag
#: NIST/HIPAA/PCI packs expect an explicit retention; one year is Security Hub's default threshold.
LOG_RETENTION: Final = logs.RetentionDays.ONE_YEAR

#: Maximum vCPUs of a compute environment. Batch scales to zero (min vCPUs 0), so the cap only bounds spend.
MAX_VCPUS: Final = 256

#: Default job size: the smallest Fargate size that runs a typical Python job comfortably.
JOB_VCPUS: Final = 1.0
JOB_MEMORY: Final = readable(Size.gibibytes(2), "Size.gibibytes(2)")

#: Default job timeout. AWS has none, so a hung job would run (and bill) for ever; one hour bounds a mistake.
JOB_TIMEOUT: Final = readable(Duration.hours(1), "Duration.hours(1)")

#: Attempts of the default Spot-aware retry policy (AWS Batch best practice: ~5, retrying only infrastructure loss).
RETRY_ATTEMPTS: Final = 5

#: A job at the head of a queue that can never run (MISCONFIGURATION:*) is cancelled after this long (minimum 600 s).
MISCONFIGURATION_TIMEOUT: Final = readable(Duration.minutes(10), "Duration.minutes(10)")

#: A job blocked by INSUFFICIENT_INSTANCE_CAPACITY is cancelled after this long: Spot capacity comes back within
#: hours, not days, and a cancelled job raises a FAILED event that the alerts see.
CAPACITY_TIMEOUT: Final = readable(Duration.hours(4), "Duration.hours(4)")

#: Queue priority of a new queue (the CloudFormation schema allows 0-1000; higher runs first).
QUEUE_PRIORITY: Final = 1

#: S3 server access logs kept this long, then expired (one year, as the log groups): long enough for an audit of the
#: last year's access, short enough that the logs' storage stays bounded.
ACCESS_LOG_RETENTION: Final = Duration.days(365)

#: A replaced (noncurrent) access-log object version is kept this long: logs are never rewritten, so a noncurrent
#: version only exists after a deletion, and a month is time enough to notice and undo it.
ACCESS_LOG_NONCURRENT_EXPIRATION: Final = Duration.days(30)

#: A replaced or deleted data object version is kept this long: three months to recover from an overwrite or a
#: deletion, while the storage of old versions stays bounded.
DATA_NONCURRENT_EXPIRATION: Final = Duration.days(90)

#: The parts of a multipart upload that never completed are billed as storage but invisible in listings; a week is
#: longer than any upload that is still running.
ABORT_INCOMPLETE_UPLOADS_AFTER: Final = Duration.days(7)

#: The EFA software installed on EFA nodes from launch-template user data (EC2 User Guide, "Get started with EFA and
#: MPI/NCCL", step "Install the EFA software", which names 1.50.0 as the current release). Pinned, not ``latest``, so a
#: new installer reaches instances only through a library release (a new launch-template version, an infrastructure
#: update). Change it here only.
EFA_INSTALLER_VERSION: Final = "1.50.0"
#: The fingerprint AWS publishes for the EFA installer's GPG key; the user data refuses to install a tarball whose
#: signature does not verify against a key with this fingerprint (EC2 User Guide, same step, "verify the EFA tarball").
EFA_INSTALLER_KEY_FINGERPRINT: Final = "4E9091BCBB97A96B26B15E59A05480B1DD2D3CCC"

#: Instance metadata (IMDS) of every EC2 instance the library launches: IMDSv2 only (session tokens, so a server-side
#: request forgery cannot read credentials with one GET) and a response hop limit of 1, so a container on the bridge
#: network (one hop further) cannot reach the instance role's credentials. ECS gives job containers their own role
#: credentials and region, so jobs lose nothing (ECS developer guide, "Amazon ECS environment variables").
IMDS_HOP_LIMIT: Final = 1
