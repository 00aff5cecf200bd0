"""Inference-API detections: model distillation and extraction through the public
API (MITRE ATLAS AML.T0024.002 Extract AI Model, AML.T0005 Create Proxy AI Model),
account by account and network by network. Features live in ``_features``."""
