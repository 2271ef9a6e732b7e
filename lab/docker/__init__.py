"""The Docker lab: scenarios for the Docker checks on the real engine."""
