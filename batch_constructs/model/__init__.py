"""The pure layer: what AWS accepts and what it costs. Never imports aws_cdk, constructs, jsii or boto3."""
