"""Private CDK-side helpers shared by the construct modules (validation, IAM, logs, dead-letter queues, compliance
acknowledgements, defaults, stack limits). Nothing here is public API: import from the public modules instead."""
