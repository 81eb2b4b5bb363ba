"""batch_constructs.testing: the app factory consumers' unit tests use, and the scrubbed template snapshot."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from batch_constructs import BatchConfigurationError, BatchPlatform, access_logs_bucket, data_bucket, testing

from .helpers import CONTEXT


def test_the_flags_are_the_projects_cdk_json_context() -> None:
    assert testing.FEATURE_FLAGS == CONTEXT


def test_new_app_turns_the_flags_on_and_adds_context() -> None:
    app = testing.new_app(context={"my-key": "v"})
    assert app.node.try_get_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy") is True
    assert app.node.try_get_context("my-key") == "v"


def test_access_logged_bucket_needs_the_flag_and_names_it() -> None:
    # GIVEN a plain app (a unit test without cdk.json)
    stack = cdk.Stack(cdk.App(), "Plain")
    # WHEN a data bucket logs to an ACL-disabled access-logs bucket
    with pytest.raises(BatchConfigurationError) as caught:
        data_bucket(stack, "Data", access_logs=access_logs_bucket(stack, "Logs"))
    # THEN the error names the rule and the flag, not aws-cdk's objectOwnership message
    assert "[access-logs-flag]" in str(caught.value)
    assert "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy" in str(caught.value)
    assert "Plain" in str(caught.value)


def test_with_the_flags_the_same_bucket_synthesizes() -> None:
    stack = cdk.Stack(testing.new_app(validate=False), "Flagged")
    data_bucket(stack, "Data", access_logs=access_logs_bucket(stack, "Logs"))
    assert "LoggingConfiguration" in json.dumps(testing.template_snapshot(stack))


def test_template_snapshot_scrubs_asset_hashes() -> None:
    # GIVEN a job whose image is an asset (its hash changes with any edit of the job's code)
    stack = cdk.Stack(testing.new_app(validate=False), "Assets")
    platform = BatchPlatform(stack, "Platform")
    image = ecs.ContainerImage.from_asset("apps/fetch_and_run/job")
    platform.add_job("Job", image=image, vcpus=1, memory=cdk.Size.gibibytes(2))
    # WHEN the snapshot is taken
    text = json.dumps(testing.template_snapshot(stack))
    # THEN no 64-hex asset hash is left, and the placeholder stands where they were
    assert "<asset-hash>" in text
    assert testing.scrub_asset_hashes(text) == text


def test_validate_false_leaves_a_template_to_other_checks() -> None:
    # GIVEN a stack with a property CloudFormation's schema rejects (the default app fails its synthesis: F3002)
    stack = cdk.Stack(testing.new_app(validate=False), "Unvalidated")
    cdk.CfnResource(stack, "Queue", type="AWS::SQS::Queue", properties={"NoSuchProperty": 1})
    # WHEN it is synthesized without the built-in validation, THEN the template is written as given
    template = testing.template_snapshot(stack)
    assert isinstance(template, dict)
    assert template["Resources"]["Queue"] == {"Type": "AWS::SQS::Queue", "Properties": {"NoSuchProperty": 1}}
