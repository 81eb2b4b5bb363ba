"""The example apps' DynamoDB tables: the stack's customer-managed key (rotating, retained), and a writer's key grant
that holds only through DynamoDB."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from apps._tables import WRITER_KEY_ACTIONS

from ..conftest import SynthesizedApp
from ..helpers import resources

APPS = [("movies_importer", "MoviesImporter"), ("image_processor", "ImageProcessor"), ("file_scanner", "FileScanner")]
VIA_DYNAMODB = {
    "StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["dynamodb.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
}


@pytest.mark.parametrize(("module", "stack"), APPS)
def test_table_uses_the_stacks_rotating_retained_key_and_the_job_may_use_it_only_through_dynamodb(
    synth_app: Callable[[str], SynthesizedApp], module: str, stack: str
) -> None:
    tpl: dict[str, Any] = synth_app(module).template(stack)
    ((table_id, table),) = resources(tpl, "AWS::DynamoDB::Table").items()
    ((key_id, key),) = resources(tpl, "AWS::KMS::Key").items()
    # THEN the table is encrypted with the customer-managed key, which rotates and outlives the stack like the table
    assert table["Properties"]["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == table["DeletionPolicy"] == "Retain"
    # AND the one role writing the table holds exactly the writer's key actions, through DynamoDB only
    key_statements = [
        statement
        for policy in resources(tpl, "AWS::IAM::ManagedPolicy").values()
        if table_id in json.dumps(policy)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]} and "kms:Encrypt" in statement["Action"]
    ]
    assert key_statements == [
        {
            "Action": sorted(WRITER_KEY_ACTIONS),
            "Condition": VIA_DYNAMODB,
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        }
    ]
