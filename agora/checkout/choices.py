from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    POS = "pos", _("Till (POS)")
    APP = "app", _("Shopper app")
    KIOSK = "kiosk", _("Kiosk")
    API = "api", _("Merchant system (API)")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")


class Method(models.TextChoices):
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    UNIONPAY = "unionpay", _("UnionPay QuickPass")
    ECNY = "ecny", _("Digital RMB (e-CNY)")
    BANK_CARD = "bank_card", _("Bank card at the till")
    CASH = "cash", _("Cash")


#: methods paid through a provider (a QR, a payment code); the others are recorded at the till
ONLINE_METHODS = (Method.WECHAT, Method.ALIPAY, Method.UNIONPAY, Method.ECNY)


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")
    FAILED = "failed", _("Failed")


class NoticeVerdict(models.TextChoices):
    APPLIED = "applied", _("Applied")
    DUPLICATE = "duplicate", _("Duplicate (already applied)")
    AFTER_CLOSE = "after_close", _("After the payment was closed")
    FORGED = "forged", _("Forged signature")
    STALE = "stale", _("Stale")
    MALFORMED = "malformed", _("Malformed")
    UNKNOWN = "unknown", _("Unknown payment")
    MISMATCH = "mismatch", _("Amount does not match")
    IGNORED = "ignored", _("Not a payment result")


class RefundStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class InvoiceKind(models.TextChoices):
    BLUE = "blue", _("Invoice")
    RED = "red", _("Credit (red-letter) invoice")


class TitleKind(models.TextChoices):
    PERSONAL = "personal", _("Individual")
    COMPANY = "company", _("Company")


class MismatchKind(models.TextChoices):
    MISSING_IN_AGORA = "missing_in_agora", _("Paid at the provider, not in Agora")
    MISSING_AT_PROVIDER = "missing_at_provider", _("Paid in Agora, not at the provider")
    AMOUNT = "amount", _("Amounts differ")
    REFUND_MISSING_IN_AGORA = "refund_missing_in_agora", _("Refund at the provider, not in Agora")
    REFUND_MISSING_AT_PROVIDER = (
        "refund_missing_at_provider",
        _("Refund in Agora, not at the provider"),
    )
