"""The pure model of what AWS Batch accepts: instance and Fargate capacities, limits and the synth-time rules.

This layer imports neither aws_cdk, constructs and jsii nor boto3 (a test keeps it so), so the construct modules, the
operations CLI and the Lambda-side code can all use it, and importing it starts no Node.js process.
"""

__all__ = ["capacity", "registry", "rules"]
