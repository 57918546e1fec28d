from django.db import models


class EntityType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    S_CORP = "s_corp", "S corporation"
    C_CORP = "c_corp", "C corporation"
    PARTNERSHIP = "partnership", "Partnership"
    NONPROFIT = "nonprofit", "Nonprofit"
    TRUST = "trust", "Trust"


class ValueTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    HIGH = "high", "High value"
    KEY = "key", "Key account"


class BillingModel(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    FIXED_FEE = "fixed_fee", "Fixed fee"
    RETAINER = "retainer", "Monthly retainer"


class ExternalSource(models.TextChoices):
    """Systems whose ids Closeloop keeps alongside its own."""

    DEMO = "demo", "Demo data"
    KARBON = "karbon", "Karbon"
    TAXDOME = "taxdome", "TaxDome"
    CANOPY = "canopy", "Canopy"
    FINANCIAL_CENTS = "financial_cents", "Financial Cents"
    QBO = "qbo", "QuickBooks Online"
    XERO = "xero", "Xero"
    STRIPE = "stripe", "Stripe"
    HARVEST = "harvest", "Harvest"
    QBTIME = "qbtime", "QuickBooks Time"
    IMPORT = "import", "CSV import"
