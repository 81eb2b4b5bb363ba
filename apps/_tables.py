"""The example apps' DynamoDB tables: encrypted with the stack's customer-managed key, and the key grant a writer needs.

Why a customer-managed key rather than the AWS managed ``aws/dynamodb``: the key policy (not only IAM) decides who may
read the table's data, key use is logged per table in CloudTrail, and the key is the stack's shared
``BatchConstructsKey`` (rotation on, retained on stack deletion like the tables), so it costs nothing extra.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

#: What a principal writing items needs on a table's customer-managed key: DynamoDB checks the caller's right to use
#: the key (kms:DescribeKey, kms:Decrypt of the table key) and encrypts with it (kms:Encrypt, kms:GenerateDataKey).
#: aws-cdk's ``grant_write_data`` grants the same plus ``kms:ReEncrypt*`` and ``kms:GenerateDataKey*`` wildcards.
WRITER_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


def grant_table_key(role: iam.IRole, table: dynamodb.Table) -> None:
    """Let ``role`` use ``table``'s key for writing items, only through DynamoDB in this region (``kms:ViaService``)."""
    key = table.encryption_key
    assert key is not None, f"{table.node.path} has no customer-managed key"
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(WRITER_KEY_ACTIONS),
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{cdk.Aws.REGION}.amazonaws.com"}},
        )
    )
