"""The New-VM wizard: one page per step over app.core.newvm's spec.

wizard = NewVMWizard(connection, model, parent, on_created=open_its_window)
wizard.show()
"""

from widgets.newvm.wizard import NewVMWizard, PageId

__all__ = ["NewVMWizard", "PageId"]
