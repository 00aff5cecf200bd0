"""Persistence after a way in: what an intruder who holds an account plants so the door
stays open after the password is reset — an MFA factor of their own, new credentials,
a trust to infrastructure they control.

This family runs after ``identity`` (``crownwatch.detect.FAMILY_ORDER``) and reads its
findings: an MFA enrolment by a user the spray got into is the attacker's, the same
enrolment by a user nobody attacked is the helpdesk's.
"""
