"""Vendor writers: each module renders neutral :mod:`crownwatch.simulate.events` as the
exact records one product logs (field names, nesting, types and casing as the vendor
writes them) and writes them in the file layout that product's export produces.

========================  =========================================================
module                    files
========================  =========================================================
``okta``                  ``okta/system_log.jsonl`` (System Log, one event a line),
                          ``okta/api_page.json`` (one ``GET /api/v1/logs`` page)
``entra``                 ``entra/signins_graph.json`` (Graph ``auditLogs/signIns``
                          envelope), ``entra/SigninLogs.json`` (Log Analytics export)
``cloudtrail``            ``cloudtrail/AWSLogs/<acct>/CloudTrail/<region>/Y/M/D/*.json.gz``
``linux_auth``            ``linux/auth.log`` (rsyslog, traditional timestamp)
``windows``               ``windows/security.xml`` (``wevtutil qe /f:xml``),
                          ``windows/security.json`` (``evtx_dump -o jsonl``)
========================  =========================================================
"""
