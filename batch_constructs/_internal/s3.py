"""S3 -> EventBridge delivery for buckets the library's triggers and storage helpers watch."""

from __future__ import annotations

import jsii
from aws_cdk import AspectPriority, Aspects, IAspect
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from ..model import registry
from .validation import warn

__all__ = ["enable_event_bridge"]


@jsii.implements(IAspect)
class _KeepEventBridgeOn:
    """If anything else makes CDK manage the bucket's notifications (``add_event_notification``), its custom resource
    replaces the bucket's whole notification configuration: ask it to keep EventBridge delivery on as well."""

    def __init__(self, bucket: s3.Bucket) -> None:
        self._bucket = bucket

    def visit(self, node: IConstruct) -> None:
        if node is self._bucket and self._bucket.node.try_find_child("Notifications") is not None:
            self._bucket.enable_event_bridge_notification()


def enable_event_bridge(scope: Construct, bucket: s3.IBucket) -> bool:
    """Turn on S3 -> EventBridge delivery for ``bucket`` when this app owns it; return whether it could.

    For an ``s3.Bucket`` the L1 ``NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled`` is set
    directly: ``s3.Bucket(event_bridge_enabled=True)`` would deploy a custom-resource Lambda (and its role) only to
    make the same API call. For an imported bucket it warns: the owner must enable it.
    """
    cfn = bucket.node.default_child if isinstance(bucket, s3.Bucket) else None
    if isinstance(bucket, s3.Bucket) and isinstance(cfn, s3.CfnBucket):
        cfn.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
        if not getattr(bucket, "_batch_constructs_keep_eventbridge", False):
            bucket._batch_constructs_keep_eventbridge = True  # type: ignore[attr-defined]
            Aspects.of(bucket).add(_KeepEventBridgeOn(bucket), priority=AspectPriority.MUTATING)
        return True
    warn(
        scope,
        registry.IMPORTED_BUCKET_EVENTBRIDGE_WARNING,
        f"bucket {bucket.node.path} is imported: this stack cannot turn on its EventBridge notifications. The bucket's "
        "owner must enable them (console: Properties > Amazon EventBridge > On; or "
        "`aws s3api put-bucket-notification-configuration` with EventBridgeConfiguration), or no job is ever "
        "submitted.",
    )
    return False
