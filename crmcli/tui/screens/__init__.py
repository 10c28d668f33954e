"""The screens of crm tui: one module each, opened by app.CrmApp."""
