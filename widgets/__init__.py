"""Everything a person sees: windows, dialogs, the VM list's delegate, sliders and graphs."""
