"""Workforce integrity: people who arrive with valid credentials that nobody stole.

North Korean IT workers (FAMOUS CHOLLIMA, UNC5267, Jasper Sleet) are *hired*: a
facilitator keeps the company laptop in a "laptop farm", the operator drives it from
abroad through a remote-control tool or a hardware KVM, signs in through a VPN, works
Pyongyang-shaped hours, and several "employees" share phone numbers, payroll accounts
or an address. Each detection here is one such signal over data an HR, IT and security
team already has — the HR roster (``workforce``), the device inventory (``devices``,
``device_items``), sign-ins and the code platform's audit log.

**A signal, never a verdict.** Every one of these has ordinary explanations (a remote
worker on a VPN, a night owl, a shared family phone); their worth is in combination.
``crownwatch workforce`` lists, per employee, the signals raised with their evidence
(:mod:`crownwatch.outputs.workforce`) — a list for a person who decides, not a score
that decides.

This family runs after ``identity`` and ``persistence`` (``crownwatch.detect.FAMILY_ORDER``).
"""
