"""Nido's core: pure Python over libvirt, with no Qt import anywhere below this package."""
