"""Network detections over Zeek and VPC Flow Logs (``network_activity``, with the names
of ``network_names``): beaconing to a command-and-control server, and
connections held open for hours.

Periodic traffic the organisation runs on purpose is listed once, in ``[organisation]
known_services``; hosts a crown jewel lives on, in ``[[assets]] hosts``.
"""
