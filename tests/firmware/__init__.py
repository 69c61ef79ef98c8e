"""Tests of the firmware: the host parser tests, and the real images in the simulator."""
