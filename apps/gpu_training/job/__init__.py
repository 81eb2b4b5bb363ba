"""Job code of the GPU training app: ``launch`` (torchrun rendezvous from AWS Batch's environment) and ``train``."""
