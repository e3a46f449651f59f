"""A realistic demo catalog, so that a trial starts with something to browse.

Three integrations (a Segment web app, an Amplitude iOS app, a custom backend tracker), their
event categories, about 120 events and 800 properties with types, allowed values, examples and
PII flags, plus the people, teams, tags and collections around them.

Why this module writes resources without `catalog.services.resources`: seeding is a bulk load of
a fresh database, like a fixture, and it is the one place that bypasses the per-object service
functions on purpose. Going through `resource_create` costs several queries per resource (and,
once history and notifications exist, would record a change set per resource and email the demo
subscribers about changes nobody made); loading in bulk keeps `manage.py serve` quick. What a
service would check still holds: every row passes `clean_fields()` and `clean()` (choices,
lengths, the parent's kind and integration, JSON lists) before the insert, and the database's
constraints check the rest (foreign keys, unique titles). No ResourceChange or Notification
rows are created. Users go through `catalog.services.workspace.user_create` like every other
account (with the system's change context: a fresh database has no admin yet); teams, tags,
collections and integrations are fetched or created directly as well.

The content is fixed and the choices (flags, owners, tags...) come from a seeded
`random.Random`, so two loads into empty databases give the same catalog (ids aside).
"""

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from catalog.models import (
    Collection,
    DataType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    IntegrationType,
    Resource,
    Role,
    Tag,
    Team,
    User,
)
from catalog.services.context import ChangeContext
from catalog.services.workspace import user_create

__all__ = ["DemoCatalogError", "load_demo_catalog"]

SEED = 20240501

STR, NUM, INT, BOOL = DataType.STRING, DataType.NUMBER, DataType.INTEGER, DataType.BOOLEAN
OBJ, ARR, DT = DataType.OBJECT, DataType.ARRAY, DataType.DATETIME


class DemoCatalogError(Exception):
    """The demo catalog can't be loaded (it is there already)."""


@dataclass(frozen=True)
class Prop:
    data_type: str
    description: str
    required: bool = False
    pii: bool = False
    allowed: list | None = None
    examples: list | None = None


# fmt: off
#: Every property an event of the demo can have, by name.
PROPERTIES: dict[str, Prop] = {
    # Web context (analytics.js).
    "page_url": Prop(STR, "Full URL of the page, query string included.",
                     examples=["https://app.example.com/pricing?plan=pro"]),
    "page_path": Prop(STR, "Path of the page, without the domain.",
                      examples=["/pricing", "/checkout/payment"]),
    "page_title": Prop(STR, "Title of the page.", examples=["Pricing | Example"]),
    "referrer": Prop(STR, "URL of the previous page; empty for direct traffic.",
                     examples=["https://www.google.com/"]),
    "user_agent": Prop(STR, "The browser's user-agent string.",
                       examples=["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Safari/605.1.15"]),
    "ip_address": Prop(STR, "Client IP address; truncated to /24 in the warehouse.", pii=True,
                       examples=["203.0.113.42"]),
    "anonymous_id": Prop(STR, "Device-scoped id set before sign-in.",
                         examples=["3f6a2b1c-8d4e-4f5a-9b6c-7d8e9f0a1b2c"]),
    "session_id": Prop(STR, "Id of the visit; a new one after 30 minutes idle.",
                       examples=["s_1715678467_a9f2"]),
    "locale": Prop(STR, "Language and region of the interface.", examples=["en-US", "de-DE"]),
    "timezone": Prop(STR, "IANA time zone of the device.", examples=["Europe/Berlin"]),
    "screen_width": Prop(INT, "Viewport width in CSS pixels.", examples=[1440, 390]),
    # iOS context (Amplitude Swift SDK).
    "app_version": Prop(STR, "Marketing version of the app.", required=True,
                        examples=["5.12.0"]),
    "build_number": Prop(INT, "Build number of the app.", examples=[5120]),
    "os_version": Prop(STR, "iOS version.", examples=["17.4.1"]),
    "device_model": Prop(STR, "Hardware model identifier.", examples=["iPhone15,2"]),
    "idfv": Prop(STR, "Identifier for vendor; stable per device and vendor.", pii=True,
                 examples=["E621E1F8-C36C-495A-93FC-0C247A3E6E5F"]),
    "network_type": Prop(STR, "Connection at the time of the event.",
                         allowed=["wifi", "cellular", "offline"]),
    "carrier": Prop(STR, "Mobile network operator.", examples=["Vodafone", "T-Mobile"]),
    # Backend context.
    "request_id": Prop(STR, "Id of the request that caused the event; find it in the logs.",
                       required=True, examples=["req_01HXW3V8K2M9"]),
    "service": Prop(STR, "The service that sent the event.", required=True,
                    allowed=["orders-api", "billing-worker", "auth-service",
                             "fulfillment-worker", "notifier"]),
    "environment": Prop(STR, "Deployment the event comes from.", required=True,
                        allowed=["production", "staging"]),
    "occurred_at": Prop(DT, "When it happened, in UTC (not when it was sent).", required=True,
                        examples=["2024-05-14T09:21:07Z"]),
    # People.
    "user_id": Prop(STR, "Id of the signed-in user.", examples=["usr_8Kq2Lm"]),
    "customer_id": Prop(STR, "Id of the customer in the billing system.", required=True,
                        examples=["cus_Q2x9Hf3Z"]),
    "email": Prop(STR, "Email address the user typed.", pii=True,
                  examples=["jane.doe@example.com"]),
    "phone": Prop(STR, "Phone number in E.164 format.", pii=True, examples=["+4915112345678"]),
    "first_name": Prop(STR, "Given name.", pii=True, examples=["Jane"]),
    "last_name": Prop(STR, "Family name.", pii=True, examples=["Doe"]),
    "date_of_birth": Prop(DT, "Date of birth, for age checks.", pii=True,
                          examples=["1990-04-12T00:00:00Z"]),
    "shipping_address": Prop(OBJ, "Street, postal code, city and country of the delivery.",
                             pii=True,
                             examples=[{"city": "Berlin", "postal_code": "10115",
                                        "country": "DE"}]),
    "latitude": Prop(NUM, "Device latitude, rounded to 3 decimals.", pii=True,
                     examples=[52.52]),
    "longitude": Prop(NUM, "Device longitude, rounded to 3 decimals.", pii=True,
                      examples=[13.405]),
    "company_name": Prop(STR, "Company the user works for.", examples=["Acme GmbH"]),
    "company_size": Prop(STR, "Employees, as a range.",
                         allowed=["1-10", "11-50", "51-200", "201-1000", "1000+"]),
    "job_title": Prop(STR, "Job title from the profile.", examples=["Data Engineer"]),
    # Marketing.
    "utm_source": Prop(STR, "Campaign source.", examples=["google", "newsletter"]),
    "utm_medium": Prop(STR, "Campaign medium.", examples=["cpc", "email"]),
    "utm_campaign": Prop(STR, "Campaign name.", examples=["spring_sale_2024"]),
    "utm_content": Prop(STR, "Which ad or link was clicked.", examples=["hero_banner"]),
    "landing_page": Prop(STR, "First page of the visit.", examples=["/lp/spring-sale"]),
    "cta_text": Prop(STR, "Label of the button.", examples=["Start free trial"]),
    "cta_location": Prop(STR, "Where on the page the button is.",
                         allowed=["header", "hero", "pricing_table", "footer"]),
    "target_url": Prop(STR, "Where the button leads.", examples=["/signup"]),
    "list_name": Prop(STR, "Mailing list.", allowed=["product_updates", "weekly_digest"]),
    "signup_method": Prop(STR, "How the account was created.", required=True,
                          allowed=["email", "google", "apple", "sso"]),
    "login_method": Prop(STR, "How the user signed in.", required=True,
                         allowed=["password", "google", "apple", "sso", "magic_link"]),
    # Onboarding and engagement.
    "step": Prop(INT, "Position of the step, from 1.", required=True, examples=[1, 2, 3]),
    "step_name": Prop(STR, "Name of the step.", examples=["connect_source", "invite_team"]),
    "steps_completed": Prop(INT, "How many steps the user finished.", examples=[4]),
    "duration_ms": Prop(INT, "Time taken, in milliseconds.", examples=[84210]),
    "invitee_email": Prop(STR, "Address the invitation went to.", pii=True,
                          examples=["colleague@example.com"]),
    "role_invited": Prop(STR, "Role offered in the invitation.",
                         allowed=["admin", "member", "guest"]),
    "integration_name": Prop(STR, "Third-party tool that was connected.",
                             examples=["Slack", "Shopify"]),
    "feature_name": Prop(STR, "Feature used.", required=True, examples=["bulk_edit", "export_csv"]),
    "feature_area": Prop(STR, "Part of the product.",
                         allowed=["dashboard", "reports", "settings", "editor"]),
    "rating": Prop(INT, "Score from 1 to 5.", required=True, allowed=[1, 2, 3, 4, 5]),
    "feedback": Prop(STR, "Free text the user wrote; may contain anything, treat as PII.",
                     pii=True, examples=["Export is slow for big files."]),
    "article_id": Prop(STR, "Help-center article id.", examples=["kb-2041"]),
    "article_title": Prop(STR, "Help-center article title.",
                          examples=["How to invite your team"]),
    "ticket_id": Prop(STR, "Support ticket id.", examples=["T-88213"]),
    "topic": Prop(STR, "Topic picked in the contact form.",
                  allowed=["billing", "bug", "account", "other"]),
    "content_type": Prop(STR, "What was shared.", allowed=["report", "dashboard", "product"]),
    "content_id": Prop(STR, "Id of what was shared.", examples=["rep_19ab"]),
    "channel": Prop(STR, "Notification channel.", required=True,
                    allowed=["email", "push", "sms", "in_app"]),
    "enabled": Prop(BOOL, "Whether the setting is now on.", required=True),
    "reason": Prop(STR, "Reason the user picked.", examples=["too_expensive", "missing_feature"]),
    "two_factor_method": Prop(STR, "Second factor.", allowed=["totp", "sms", "webauthn"]),
    "previous_email": Prop(STR, "Address before the change.", pii=True,
                           examples=["old.address@example.com"]),
    # Product discovery.
    "search_query": Prop(STR, "What the user searched for; free text, may contain PII.",
                         required=True, pii=True, examples=["running shoes"]),
    "results_count": Prop(INT, "Number of results shown.", examples=[42, 0]),
    "filters": Prop(ARR, "Filters applied, as {type, value} objects.",
                    examples=[[{"type": "brand", "value": "Acme"}]]),
    "sorts": Prop(ARR, "Sort orders applied.", examples=[[{"type": "price", "value": "desc"}]]),
    "list_id": Prop(STR, "Id of the product list.", examples=["hot_deals_1"]),
    "product_id": Prop(STR, "Id of the product in the catalog database.", required=True,
                       examples=["507f1f77bcf86cd799439011"]),
    "sku": Prop(STR, "Stock keeping unit.", examples=["G-32-BLK-42"]),
    "product_name": Prop(STR, "Name of the product.", examples=["Trail Runner 3"]),
    "category": Prop(STR, "Product category.", examples=["Shoes"]),
    "brand": Prop(STR, "Brand of the product.", examples=["Acme"]),
    "variant": Prop(STR, "Size, colour or edition.", examples=["black / 42"]),
    "price": Prop(NUM, "Unit price, in `currency`.", examples=[89.95]),
    "quantity": Prop(INT, "Number of units.", examples=[1, 2]),
    "position": Prop(INT, "Position in the list, from 1.", examples=[3]),
    "products": Prop(ARR, "Products, each with product_id, sku, price and quantity.",
                     examples=[[{"product_id": "507f1f77bcf86cd799439011", "quantity": 1}]]),
    "promotion_id": Prop(STR, "Id of the promotion.", required=True, examples=["promo_spring"]),
    "promotion_name": Prop(STR, "Name of the promotion.", examples=["Spring sale"]),
    "creative": Prop(STR, "Banner or creative shown.", examples=["spring_banner_v2"]),
    "barcode": Prop(STR, "EAN or UPC that was scanned.", examples=["4006381333931"]),
    "matched": Prop(BOOL, "Whether the barcode matched a product.", required=True),
    "wishlist_id": Prop(STR, "Id of the wishlist.", examples=["wl_5521"]),
    "model_version": Prop(STR, "Recommendation model that ranked the item.",
                          examples=["recs-2024-04-30"]),
    # Checkout and money.
    "cart_id": Prop(STR, "Id of the cart.", required=True, examples=["cart_d115"]),
    "checkout_id": Prop(STR, "Id of the checkout session.", required=True,
                        examples=["chk_7d0f1a"]),
    "order_id": Prop(STR, "Id of the order; the same in every system.", required=True,
                     examples=["ord_50314b8e"]),
    "value": Prop(NUM, "Value of the cart, in `currency`.", examples=[179.9]),
    "revenue": Prop(NUM, "Revenue after discounts, before shipping and tax.", required=True,
                    examples=[161.91]),
    "total": Prop(NUM, "What the customer paid, shipping and tax included.", required=True,
                  examples=[192.67]),
    "shipping": Prop(NUM, "Shipping cost.", examples=[4.9]),
    "tax": Prop(NUM, "Tax amount.", examples=[25.86]),
    "discount": Prop(NUM, "Discount amount.", examples=[17.99]),
    "currency": Prop(STR, "ISO 4217 currency code.", required=True,
                     allowed=["USD", "EUR", "GBP", "JPY", "CHF"]),
    "coupon": Prop(STR, "Coupon code entered.", examples=["SPRING10"]),
    "coupon_id": Prop(STR, "Id of the coupon.", examples=["cpn_10off"]),
    "payment_method": Prop(STR, "How the customer paid.",
                           allowed=["card", "paypal", "apple_pay", "google_pay",
                                    "bank_transfer"]),
    "shipping_method": Prop(STR, "Delivery option picked.",
                            allowed=["standard", "express", "pickup"]),
    "is_first_purchase": Prop(BOOL, "Whether this is the customer's first order."),
    "error_code": Prop(STR, "Error code from the provider.", examples=["card_declined"]),
    "error_message": Prop(STR, "Human-readable error.", examples=["Your card was declined."]),
    "amount_cents": Prop(INT, "Amount in the smallest currency unit.", required=True,
                         examples=[19267]),
    "invoice_id": Prop(STR, "Id of the invoice.", required=True, examples=["in_1P2q3R"]),
    "charge_id": Prop(STR, "Id of the charge at the payment provider.", required=True,
                      examples=["ch_3P4s5T"]),
    "dispute_reason": Prop(STR, "Reason the bank gave.",
                           allowed=["fraudulent", "product_not_received", "duplicate",
                                    "subscription_canceled", "general"]),
    "due_at": Prop(DT, "When the invoice is due.", examples=["2024-06-01T00:00:00Z"]),
    "attempt_count": Prop(INT, "Payment attempts so far.", examples=[2]),
    "card_brand": Prop(STR, "Card network.", allowed=["visa", "mastercard", "amex"]),
    "card_last4": Prop(STR, "Last four digits of the card.", pii=True, examples=["4242"]),
    "refund_reason": Prop(STR, "Why the money was returned.",
                          allowed=["requested_by_customer", "duplicate", "fraudulent"]),
    # Subscriptions.
    "subscription_id": Prop(STR, "Id of the subscription.", required=True,
                            examples=["sub_1Mx8Yz"]),
    "plan": Prop(STR, "Plan of the subscription.", required=True,
                 allowed=["free", "starter", "pro", "enterprise"]),
    "previous_plan": Prop(STR, "Plan before the change.",
                          allowed=["free", "starter", "pro", "enterprise"]),
    "billing_cycle": Prop(STR, "How often the customer pays.", allowed=["monthly", "annual"]),
    "seats": Prop(INT, "Number of paid seats.", examples=[5]),
    "mrr_cents": Prop(INT, "Monthly recurring revenue, in cents.", examples=[4900]),
    "trial_ends_at": Prop(DT, "End of the trial.", examples=["2024-05-28T00:00:00Z"]),
    "cancel_reason": Prop(STR, "Reason picked in the cancel flow.",
                          allowed=["too_expensive", "missing_feature", "switched_tool",
                                   "no_longer_needed", "other"]),
    # Orders and fulfilment.
    "item_count": Prop(INT, "Number of items in the order.", examples=[3]),
    "warehouse_id": Prop(STR, "Warehouse that handles the order.", examples=["wh_ber_1"]),
    "carrier_name": Prop(STR, "Parcel carrier.", allowed=["dhl", "ups", "dpd", "fedex"]),
    "tracking_number": Prop(STR, "Carrier tracking number.", examples=["00340434161094012345"]),
    "estimated_delivery_at": Prop(DT, "Promised delivery date.",
                                  examples=["2024-05-17T00:00:00Z"]),
    "delivered_at": Prop(DT, "When the carrier reported delivery.",
                         examples=["2024-05-16T14:02:00Z"]),
    "attempt_number": Prop(INT, "Delivery attempt, from 1.", examples=[1]),
    "return_reason": Prop(STR, "Why the item comes back.",
                          allowed=["wrong_size", "damaged", "not_as_described", "other"]),
    "stock_level": Prop(INT, "Units left in stock.", required=True, examples=[7]),
    "threshold": Prop(INT, "Reorder threshold.", examples=[10]),
    "adjustment": Prop(INT, "Change in units; negative for shrinkage.", examples=[-2]),
    # Security.
    "failure_reason": Prop(STR, "Why the sign-in failed.",
                           allowed=["wrong_password", "unknown_user", "locked", "mfa_failed"]),
    "risk_score": Prop(NUM, "Fraud model score from 0 to 1.", examples=[0.87]),
    "country": Prop(STR, "ISO country code derived from the IP address.", examples=["DE", "US"]),
    "key_scope": Prop(STR, "Scope of the new key.", allowed=["read", "write", "admin"]),
    "export_format": Prop(STR, "Format of the data export.", allowed=["json", "csv"]),
    "locked_until": Prop(DT, "End of the lock.", examples=["2024-05-14T10:21:07Z"]),
    # Messaging.
    "message_id": Prop(STR, "Id of the message at the provider.", required=True,
                       examples=["msg_0f9e8d"]),
    "template": Prop(STR, "Template the message was rendered from.",
                     examples=["order_confirmation", "password_reset"]),
    "bounce_type": Prop(STR, "Kind of bounce.", allowed=["hard", "soft", "complaint"]),
    "recipient": Prop(STR, "Address or number the message went to.", pii=True,
                      examples=["jane.doe@example.com"]),
    # Mobile app.
    "screen_name": Prop(STR, "Screen the user is on.", required=True,
                        examples=["ProductDetail", "Cart"]),
    "previous_screen": Prop(STR, "Screen before this one.", examples=["Home"]),
    "from_background": Prop(BOOL, "Whether the app came back from the background."),
    "previous_version": Prop(STR, "App version before the update.", examples=["5.11.2"]),
    "exception_name": Prop(STR, "Exception type.", examples=["NSInvalidArgumentException"]),
    "url": Prop(STR, "Deep link that opened the app.",
                examples=["example://product/507f1f77bcf86cd799439011"]),
    "referring_application": Prop(STR, "App that opened the link.",
                                  examples=["com.apple.mobilesafari"]),
    "granted": Prop(BOOL, "Whether the user allowed it.", required=True),
    "precision": Prop(STR, "Location precision granted.", allowed=["precise", "approximate"]),
    "biometric_type": Prop(STR, "Biometric method.", allowed=["face_id", "touch_id"]),
    "campaign_id": Prop(STR, "Id of the messaging campaign.", required=True,
                        examples=["cmp_may_winback"]),
    "notification_type": Prop(STR, "Kind of notification.",
                              allowed=["marketing", "transactional", "reminder"]),
    "action_identifier": Prop(STR, "Notification button tapped, if any.", examples=["view_order"]),
    "button_text": Prop(STR, "Label of the button tapped.", examples=["Shop now"]),
    "fields_changed": Prop(ARR, "Names of the profile fields changed.",
                           examples=[["first_name", "phone"]]),
}

#: Context properties by integration; each event gets a few of them.
CONTEXT = {
    "Web app": ["page_url", "page_path", "page_title", "referrer", "user_agent", "ip_address",
                "anonymous_id", "session_id", "locale", "timezone", "screen_width"],
    "iOS app": ["app_version", "build_number", "os_version", "device_model", "idfv",
                "network_type", "carrier", "locale", "session_id"],
    "Backend": ["request_id", "service", "environment", "occurred_at"],
}
#: Context properties every event of the integration has.
ALWAYS = {"Web app": ["page_url"], "iOS app": ["app_version"], "Backend": ["request_id"]}

INTEGRATIONS = [
    ("Web app", IntegrationType.SEGMENT,
     "The web shop and account pages at app.example.com, tracked with Segment analytics.js."),
    ("iOS app", IntegrationType.AMPLITUDE,
     "The iPhone and iPad app, tracked with the Amplitude Swift SDK."),
    ("Backend", IntegrationType.CUSTOM,
     "Server-side events from the orders, billing, auth and fulfilment services, sent by our "
     "own tracker."),
]

#: (integration, category, team, tags, description, [(event, description, [properties])])
CATALOG: list[tuple[str, str, str, list[str], str, list[tuple[str, str, list[str]]]]] = [
    ("Web app", "Acquisition", "Growth", ["marketing"],
     "How visitors find us and become users.", [
        ("Page Viewed", "A page of the site was loaded.", ["page_title", "referrer"]),
        ("Landing Page Viewed", "A campaign landing page was loaded.",
         ["utm_source", "utm_medium", "utm_campaign", "utm_content", "landing_page"]),
        ("CTA Clicked", "A call-to-action button was clicked.",
         ["cta_text", "cta_location", "target_url"]),
        ("Signup Started", "The signup form was opened.", ["signup_method", "utm_campaign"]),
        ("Signed Up", "An account was created.",
         ["user_id", "email", "signup_method", "plan", "utm_source"]),
        ("Newsletter Subscribed", "A visitor subscribed to a mailing list.",
         ["email", "list_name"]),
        ("Demo Requested", "The sales demo form was sent.",
         ["email", "phone", "first_name", "last_name", "company_name", "company_size",
          "job_title"]),
    ]),
    ("Web app", "Onboarding", "Growth", ["activation"],
     "The first steps of a new account.", [
        ("Onboarding Started", "The onboarding checklist was shown for the first time.",
         ["user_id", "plan"]),
        ("Onboarding Step Completed", "A step of the checklist was finished.",
         ["user_id", "step", "step_name", "duration_ms"]),
        ("Onboarding Step Skipped", "A step of the checklist was skipped.",
         ["user_id", "step", "step_name"]),
        ("Onboarding Completed", "Every step of the checklist was finished or skipped.",
         ["user_id", "steps_completed", "duration_ms"]),
        ("Profile Completed", "The user filled in their profile.",
         ["user_id", "first_name", "last_name", "job_title", "company_name"]),
        ("Teammate Invited", "An invitation was sent to a colleague.",
         ["user_id", "invitee_email", "role_invited"]),
        ("Integration Connected", "A third-party tool was connected.",
         ["user_id", "integration_name"]),
    ]),
    ("Web app", "Product Discovery", "Growth", ["ecommerce"],
     "Browsing and searching the shop.", [
        ("Products Searched", "A search was run.", ["search_query", "results_count", "filters"]),
        ("Product List Viewed", "A category or list page was shown.",
         ["list_id", "category", "products"]),
        ("Product List Filtered", "Filters or sort orders changed on a list.",
         ["list_id", "category", "filters", "sorts", "products"]),
        ("Product Clicked", "A product was clicked in a list.",
         ["product_id", "sku", "product_name", "position", "list_id"]),
        ("Product Viewed", "A product page was shown.",
         ["product_id", "sku", "product_name", "category", "brand", "variant", "price",
          "currency"]),
        ("Promotion Viewed", "A promotion banner was shown.",
         ["promotion_id", "promotion_name", "creative", "position"]),
        ("Promotion Clicked", "A promotion banner was clicked.",
         ["promotion_id", "promotion_name", "creative", "position"]),
    ]),
    ("Web app", "Checkout", "Payments", ["ecommerce", "checkout"],
     "From the cart to the confirmation page.", [
        ("Product Added", "A product was added to the cart.",
         ["cart_id", "product_id", "sku", "product_name", "variant", "price", "quantity",
          "currency"]),
        ("Product Removed", "A product was removed from the cart.",
         ["cart_id", "product_id", "sku", "price", "quantity", "currency"]),
        ("Cart Viewed", "The cart page was shown.", ["cart_id", "products", "value", "currency"]),
        ("Checkout Started", "The customer started the checkout.",
         ["checkout_id", "cart_id", "value", "currency", "products", "coupon"]),
        ("Checkout Step Viewed", "A step of the checkout was shown.",
         ["checkout_id", "step", "step_name"]),
        ("Checkout Step Completed", "A step of the checkout was finished.",
         ["checkout_id", "step", "step_name", "shipping_method", "payment_method"]),
        ("Payment Info Entered", "Payment details were entered.",
         ["checkout_id", "payment_method", "card_brand"]),
        ("Coupon Applied", "A coupon was accepted.",
         ["checkout_id", "coupon", "coupon_id", "discount", "currency"]),
        ("Coupon Denied", "A coupon was refused.", ["checkout_id", "coupon", "reason"]),
        ("Order Completed", "The order was placed and the confirmation page shown.",
         ["order_id", "checkout_id", "total", "revenue", "shipping", "tax", "discount",
          "coupon", "currency", "products", "payment_method", "is_first_purchase", "email",
          "shipping_address"]),
    ]),
    ("Web app", "Account", "Data Platform", ["account"],
     "Signing in and managing the account.", [
        ("Signed In", "The user signed in.", ["user_id", "login_method"]),
        ("Signed Out", "The user signed out.", ["user_id"]),
        ("Password Reset Requested", "A password reset link was requested.", ["email"]),
        ("Password Changed", "The password was changed.", ["user_id"]),
        ("Two-Factor Enabled", "Two-factor authentication was turned on.",
         ["user_id", "two_factor_method", "phone"]),
        ("Email Changed", "The account's email address was changed.",
         ["user_id", "email", "previous_email"]),
        ("Account Deleted", "The user deleted their account.",
         ["user_id", "reason", "feedback"]),
    ]),
    ("Web app", "Engagement", "Growth", ["engagement"],
     "Using the product after onboarding.", [
        ("Feature Used", "A tracked feature was used.", ["user_id", "feature_name",
                                                          "feature_area"]),
        ("Feedback Submitted", "The in-app feedback form was sent.",
         ["user_id", "rating", "feedback", "email"]),
        ("Help Article Viewed", "A help-center article was opened.",
         ["article_id", "article_title"]),
        ("Support Ticket Created", "A support request was sent.",
         ["user_id", "ticket_id", "topic", "email"]),
        ("Share Link Copied", "A share link was copied.", ["content_type", "content_id"]),
        ("Notification Preferences Updated", "A notification setting was changed.",
         ["user_id", "channel", "enabled"]),
    ]),
    ("iOS app", "App Lifecycle", "Mobile", ["mobile"],
     "Installs, launches, crashes and navigation.", [
        ("Application Installed", "The app was opened for the first time after install.",
         ["build_number"]),
        ("Application Opened", "The app came to the foreground.", ["from_background", "url"]),
        ("Application Backgrounded", "The app went to the background.", ["screen_name"]),
        ("Application Updated", "The app was opened for the first time after an update.",
         ["previous_version", "build_number"]),
        ("Application Crashed", "The app crashed; sent on the next launch.",
         ["exception_name", "error_message", "screen_name"]),
        ("Deep Link Opened", "A deep link opened the app.", ["url", "referring_application"]),
        ("Screen Viewed", "A screen was shown.", ["screen_name", "previous_screen"]),
    ]),
    ("iOS app", "Onboarding", "Mobile", ["mobile", "activation"],
     "First launch: sign-up and permissions.", [
        ("Onboarding Started", "The welcome screens were shown.", ["screen_name"]),
        ("Onboarding Step Completed", "A welcome screen was finished.",
         ["step", "step_name", "duration_ms"]),
        ("Push Permission Responded", "The user answered the push permission prompt.",
         ["granted"]),
        ("Location Permission Responded", "The user answered the location permission prompt.",
         ["granted", "precision"]),
        ("Account Created", "An account was created in the app.",
         ["user_id", "email", "phone", "signup_method", "date_of_birth"]),
        ("Onboarding Completed", "The last welcome screen was finished.",
         ["steps_completed", "duration_ms"]),
    ]),
    ("iOS app", "Product Discovery", "Mobile", ["mobile", "ecommerce"],
     "Browsing, searching and scanning in the app.", [
        ("Search Performed", "A search was run.", ["search_query", "results_count", "filters"]),
        ("Product Viewed", "A product screen was shown.",
         ["product_id", "sku", "product_name", "category", "price", "currency"]),
        ("Barcode Scanned", "A barcode was scanned in a store.",
         ["barcode", "matched", "product_id"]),
        ("Store Locator Opened", "The store map was opened.", ["latitude", "longitude"]),
        ("Wishlist Product Added", "A product was saved to a wishlist.",
         ["wishlist_id", "product_id", "price", "currency"]),
        ("Recommendation Tapped", "A recommended product was tapped.",
         ["product_id", "position", "model_version"]),
    ]),
    ("iOS app", "Checkout", "Payments", ["mobile", "ecommerce", "checkout"],
     "Cart and payment in the app.", [
        ("Product Added", "A product was added to the cart.",
         ["cart_id", "product_id", "sku", "price", "quantity", "currency"]),
        ("Cart Viewed", "The cart screen was shown.", ["cart_id", "products", "value",
                                                        "currency"]),
        ("Checkout Started", "The checkout screen was opened.",
         ["checkout_id", "cart_id", "value", "currency"]),
        ("Apple Pay Sheet Shown", "The Apple Pay sheet was presented.",
         ["checkout_id", "value", "currency"]),
        ("Payment Failed", "The payment was refused.",
         ["checkout_id", "payment_method", "error_code", "error_message"]),
        ("Order Completed", "The order was placed.",
         ["order_id", "checkout_id", "total", "revenue", "currency", "products",
          "payment_method", "is_first_purchase", "shipping_address"]),
    ]),
    ("iOS app", "Push Notifications", "Mobile", ["mobile", "messaging"],
     "Push and in-app messages.", [
        ("Push Notification Received", "A push notification arrived.",
         ["campaign_id", "notification_type"]),
        ("Push Notification Opened", "A push notification was tapped.",
         ["campaign_id", "notification_type", "action_identifier"]),
        ("Push Notification Dismissed", "A push notification was swiped away.",
         ["campaign_id", "notification_type"]),
        ("Notification Settings Changed", "A notification setting was changed.",
         ["channel", "enabled"]),
        ("In-App Message Shown", "An in-app message was shown.", ["message_id", "campaign_id"]),
        ("In-App Message Clicked", "A button of an in-app message was tapped.",
         ["message_id", "campaign_id", "button_text"]),
    ]),
    ("iOS app", "Account", "Mobile", ["mobile", "account"],
     "Signing in and the profile in the app.", [
        ("Signed In", "The user signed in.", ["user_id", "login_method"]),
        ("Signed Out", "The user signed out.", ["user_id"]),
        ("Biometric Login Enabled", "Face ID or Touch ID sign-in was turned on.",
         ["user_id", "biometric_type"]),
        ("Profile Updated", "The profile was edited.",
         ["user_id", "fields_changed", "first_name", "last_name", "phone"]),
    ]),
    ("Backend", "Orders", "Payments", ["server-side", "ecommerce"],
     "The life of an order, from the orders service.", [
        ("order_created", "The orders service stored a new order.",
         ["order_id", "customer_id", "amount_cents", "currency", "item_count"]),
        ("order_paid", "The payment of an order was captured.",
         ["order_id", "customer_id", "amount_cents", "currency", "payment_method"]),
        ("order_shipped", "Every item of the order left the warehouse.",
         ["order_id", "warehouse_id", "carrier_name", "tracking_number",
          "estimated_delivery_at"]),
        ("order_delivered", "The carrier reported the delivery.",
         ["order_id", "carrier_name", "delivered_at"]),
        ("order_cancelled", "The order was cancelled before shipping.",
         ["order_id", "customer_id", "reason"]),
        ("order_refunded", "Money was returned for the order.",
         ["order_id", "amount_cents", "currency", "refund_reason"]),
        ("return_requested", "The customer asked to return items.",
         ["order_id", "customer_id", "return_reason", "item_count"]),
    ]),
    ("Backend", "Billing", "Payments", ["server-side", "billing"],
     "Invoices and charges, from the billing worker.", [
        ("invoice_created", "An invoice was issued.",
         ["invoice_id", "customer_id", "amount_cents", "currency", "due_at"]),
        ("invoice_paid", "An invoice was paid.",
         ["invoice_id", "customer_id", "amount_cents", "currency", "payment_method"]),
        ("invoice_payment_failed", "Collecting an invoice failed.",
         ["invoice_id", "customer_id", "attempt_count", "error_code"]),
        ("charge_succeeded", "A card charge went through.",
         ["charge_id", "customer_id", "amount_cents", "currency", "card_brand", "card_last4"]),
        ("charge_disputed", "A customer's bank opened a dispute.",
         ["charge_id", "customer_id", "amount_cents", "currency", "dispute_reason"]),
        ("payment_method_updated", "The customer changed the card on file.",
         ["customer_id", "payment_method", "card_brand", "card_last4"]),
        ("refund_issued", "A refund was sent to the payment provider.",
         ["charge_id", "amount_cents", "currency", "refund_reason"]),
    ]),
    ("Backend", "Subscriptions", "Payments", ["server-side", "billing", "kpi"],
     "Trials, plans and renewals.", [
        ("trial_started", "A free trial began.",
         ["subscription_id", "customer_id", "plan", "trial_ends_at"]),
        ("trial_converted", "A trial became a paid subscription.",
         ["subscription_id", "customer_id", "plan", "billing_cycle", "mrr_cents"]),
        ("trial_expired", "A trial ended without payment.",
         ["subscription_id", "customer_id", "plan"]),
        ("subscription_started", "A paid subscription began.",
         ["subscription_id", "customer_id", "plan", "billing_cycle", "seats", "mrr_cents"]),
        ("subscription_renewed", "A subscription renewed for another period.",
         ["subscription_id", "customer_id", "plan", "billing_cycle", "mrr_cents"]),
        ("subscription_upgraded", "A subscription moved to a higher plan.",
         ["subscription_id", "customer_id", "plan", "previous_plan", "mrr_cents"]),
        ("subscription_downgraded", "A subscription moved to a lower plan.",
         ["subscription_id", "customer_id", "plan", "previous_plan", "mrr_cents"]),
        ("subscription_cancelled", "A subscription was cancelled.",
         ["subscription_id", "customer_id", "plan", "cancel_reason", "mrr_cents"]),
    ]),
    ("Backend", "Fulfillment", "Data Platform", ["server-side", "operations"],
     "Warehouse and delivery, from the fulfilment worker.", [
        ("shipment_label_created", "A carrier label was printed.",
         ["order_id", "warehouse_id", "carrier_name", "tracking_number"]),
        ("shipment_dispatched", "A parcel was handed to the carrier.",
         ["order_id", "carrier_name", "tracking_number", "shipping_address"]),
        ("delivery_attempted", "The carrier tried to deliver.",
         ["order_id", "tracking_number", "attempt_number"]),
        ("inventory_low", "Stock of a product fell under its threshold.",
         ["product_id", "sku", "warehouse_id", "stock_level", "threshold"]),
        ("warehouse_stock_adjusted", "Stock was corrected after a count.",
         ["product_id", "sku", "warehouse_id", "adjustment", "stock_level"]),
    ]),
    ("Backend", "Security", "Data Platform", ["server-side", "security"],
     "Authentication and privacy requests, from the auth service.", [
        ("login_succeeded", "A sign-in succeeded.",
         ["user_id", "login_method", "ip_address", "country"]),
        ("login_failed", "A sign-in failed.",
         ["email", "failure_reason", "ip_address", "country"]),
        ("password_reset_completed", "A password was reset with an emailed link.",
         ["user_id", "ip_address"]),
        ("api_key_created", "A user created an API key.", ["user_id", "key_scope"]),
        ("suspicious_login_detected", "The fraud model flagged a sign-in.",
         ["user_id", "risk_score", "ip_address", "country"]),
        ("account_locked", "An account was locked after failed sign-ins.",
         ["user_id", "locked_until", "attempt_count"]),
        ("gdpr_export_requested", "A user asked for a copy of their data.",
         ["user_id", "email", "export_format"]),
        ("gdpr_deletion_completed", "A user's personal data was erased.", ["user_id"]),
    ]),
    ("Backend", "Messaging", "Growth", ["server-side", "messaging"],
     "Emails and text messages, from the notifier.", [
        ("email_sent", "An email was handed to the provider.",
         ["message_id", "template", "recipient", "user_id"]),
        ("email_delivered", "The provider delivered an email.", ["message_id", "template"]),
        ("email_bounced", "An email bounced.", ["message_id", "recipient", "bounce_type"]),
        ("email_opened", "An email was opened (pixel).", ["message_id", "template",
                                                          "user_agent"]),
        ("sms_sent", "A text message was sent.", ["message_id", "template", "phone"]),
        ("unsubscribed", "A recipient unsubscribed from a list.",
         ["user_id", "email", "list_name"]),
    ]),
]

#: (username, first name, last name, role, teams)
USERS = [
    ("maria.garcia", "Maria", "Garcia", Role.EDITOR, ["Growth"]),
    ("kenji.tanaka", "Kenji", "Tanaka", Role.EDITOR, ["Mobile"]),
    ("amara.okafor", "Amara", "Okafor", Role.EDITOR, ["Payments"]),
    ("lukas.becker", "Lukas", "Becker", Role.EDITOR, ["Data Platform", "Payments"]),
    ("sofia.rossi", "Sofia", "Rossi", Role.VIEWER, ["Growth"]),
    ("david.cohen", "David", "Cohen", Role.VIEWER, ["Payments"]),
    ("emma.wilson", "Emma", "Wilson", Role.VIEWER, ["Mobile", "Growth"]),
]

TEAMS = {
    "Growth": "Acquisition, activation and lifecycle messaging.",
    "Mobile": "The iOS app.",
    "Payments": "Checkout, billing and subscriptions.",
    "Data Platform": "Tracking infrastructure, the warehouse and this catalog.",
}

TAGS = {
    "marketing": "Campaigns and attribution.",
    "activation": "Steps towards a user's first success.",
    "ecommerce": "Segment e-commerce spec events.",
    "checkout": "The checkout funnel.",
    "account": "Sign-in and account management.",
    "engagement": "Product usage.",
    "mobile": "Sent by a mobile app.",
    "messaging": "Push, email, SMS and in-app messages.",
    "server-side": "Sent by a backend service; reliable, no ad blockers.",
    "billing": "Money moving: invoices, charges, refunds.",
    "operations": "Warehouse and delivery.",
    "security": "Authentication and privacy.",
    "kpi": "Feeds a company KPI; change with care.",
    "experiment": "Added for an A/B test; may go away.",
    "deprecated": "Do not use in new analyses.",
    "gdpr": "Personal data: masked in the warehouse, erased on request.",
}

#: Collection -> (description, events that belong to it, as (integration, title)).
COLLECTIONS = {
    "Checkout funnel": (
        "The steps from cart to order, on web and iOS.",
        [(i, t) for i in ("Web app", "iOS app")
         for t in ("Product Added", "Cart Viewed", "Checkout Started",
                   "Checkout Step Completed", "Payment Info Entered", "Order Completed")],
    ),
    "Activation metrics": (
        "What a new account does in its first week.",
        [("Web app", "Signed Up"), ("Web app", "Onboarding Completed"),
         ("Web app", "Teammate Invited"), ("Web app", "Integration Connected"),
         ("iOS app", "Account Created"), ("iOS app", "Onboarding Completed"),
         ("iOS app", "Push Permission Responded")],
    ),
    "Revenue reporting": (
        "The events finance reconciles every month.",
        [("Web app", "Order Completed"), ("iOS app", "Order Completed"),
         ("Backend", "order_paid"), ("Backend", "order_refunded"),
         ("Backend", "invoice_paid"), ("Backend", "refund_issued"),
         ("Backend", "trial_converted"), ("Backend", "subscription_started"),
         ("Backend", "subscription_renewed"), ("Backend", "subscription_cancelled")],
    ),
    "Marketing attribution": (
        "Where new users come from.",
        [("Web app", "Page Viewed"), ("Web app", "Landing Page Viewed"),
         ("Web app", "CTA Clicked"), ("Web app", "Signed Up"),
         ("iOS app", "Application Installed"), ("iOS app", "Deep Link Opened")],
    ),
    "Security & compliance": (
        "Events the security team audits.",
        [("Backend", t) for t in ("login_failed", "suspicious_login_detected",
                                  "account_locked", "gdpr_export_requested",
                                  "gdpr_deletion_completed")],
    ),
}
# fmt: on


def _payload(integration_type: str, event: str, props: dict[str, Any]) -> dict:
    """An example of the event on the wire, in the integration's own format."""
    if integration_type == IntegrationType.SEGMENT:
        return {"type": "track", "event": event, "userId": "usr_8Kq2Lm", "properties": props}
    if integration_type == IntegrationType.AMPLITUDE:
        return {"event_type": event, "user_id": "usr_8Kq2Lm", "event_properties": props}
    return {"event": event, "occurred_at": "2024-05-14T09:21:07Z", "data": props}


def _example_value(prop: Prop) -> Any:
    if prop.examples:
        return prop.examples[0]
    if prop.allowed:
        return prop.allowed[0]
    return True if prop.data_type == DataType.BOOLEAN else None


def _event_definition(
    integration: Integration, title: str, description: str, props: list[str], deprecated: bool
) -> str:
    lines = []
    if deprecated:
        lines += ["> **Deprecated.** Kept for old dashboards; do not use it in new analyses.", ""]
    lines += [f"**When it fires:** {description}", "", "## Properties", ""]
    lines += ["| Property | Type | Required | Description |", "| --- | --- | --- | --- |"]
    for name in props:
        prop = PROPERTIES[name]
        required = "yes" if prop.required else "no"
        lines.append(f"| `{name}` | {prop.data_type} | {required} | {prop.description} |")
    example = {name: _example_value(PROPERTIES[name]) for name in props}
    payload = json.dumps(_payload(integration.type, title, example), indent=2)
    lines += ["", f"## Example ({integration.get_type_display()})", "", "```json", payload, "```"]
    return "\n".join(lines)


def _property_definition(name: str, prop: Prop) -> str:
    parts = [prop.description]
    if prop.pii:
        parts.append(
            "**Personal data.** Hashed in the warehouse, never forwarded to ad platforms, and "
            "erased within 30 days of a deletion request."
        )
    if prop.allowed:
        values = ", ".join(f"`{value}`" for value in prop.allowed)
        parts.append(f"One of: {values}. Anything else is reported as a violation.")
    if prop.data_type == DataType.DATETIME:
        parts.append("ISO 8601 with a time zone, e.g. `2024-05-14T09:21:07Z`.")
    return "\n\n".join(parts)


def _get_or_create(model: type, key: str, value: str, defaults: dict) -> Any:
    obj, _ = model.objects.get_or_create(**{key: value}, defaults=defaults)
    return obj


def _links(field: str, pairs: Iterable[tuple[Any, Any]]) -> int:
    """Insert many-to-many rows of `Resource.<field>` in bulk; `pairs` are (resource, target)."""
    m2m = Resource._meta.get_field(field)
    through = m2m.remote_field.through
    source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
    rows = [
        through(**{f"{source}_id": resource.pk, f"{target}_id": other.pk})
        for resource, other in pairs
    ]
    through.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _users(teams: dict[str, Team]) -> dict[str, User]:
    users = {}
    for username, first, last, role, team_names in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                ctx=ChangeContext.for_system(),
                username=username,
                role=role,
                email=f"{username}@example.com",
            )
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
        users[username] = user
        for name in team_names:
            teams[name].members.add(user)
    return users


@transaction.atomic
def load_demo_catalog() -> dict[str, int]:
    """Load the demo catalog and return how many objects of each kind it has.

    Integrations, teams, tags, collections and users are reused when they exist by name;
    resources are always new, so DemoCatalogError is raised if a demo integration has any.
    """
    rng = random.Random(SEED)
    names = [name for name, _, _ in INTEGRATIONS]
    if Resource.objects.filter(integration__name__in=names).exists():
        raise DemoCatalogError(
            "The demo integrations already have resources; the demo catalog is loaded."
        )

    teams = {
        name: _get_or_create(Team, "name", name, {"description": d}) for name, d in TEAMS.items()
    }
    tags = {
        name: _get_or_create(Tag, "title", name, {"description": d}) for name, d in TAGS.items()
    }
    collections = {
        name: _get_or_create(Collection, "title", name, {"description": d})
        for name, (d, _) in COLLECTIONS.items()
    }
    integrations = {
        name: _get_or_create(Integration, "name", name, {"type": kind, "description": d})
        for name, kind, d in INTEGRATIONS
    }
    users = _users(teams)
    everyone = list(users.values())
    editors_by_team = {
        team: [users[u] for u, _, _, role, ts in USERS if role == Role.EDITOR and team in ts]
        for team in TEAMS
    }
    integration_teams = {"Web app": ["Growth"], "iOS app": ["Mobile"], "Backend": ["Payments"]}
    for name, team_names in integration_teams.items():
        integrations[name].teams.add(*(teams[t] for t in team_names))
    in_collection = {}
    for name, (_, members) in COLLECTIONS.items():
        for key in members:
            in_collection.setdefault(key, []).append(collections[name])

    resources: list[Resource] = []
    owners, subscribers, team_links, tag_links, collection_links = [], [], [], [], []
    counts = {"event_categories": 0, "events": 0, "event_properties": 0}
    for integration_name, category_title, team_name, category_tags, summary, events in CATALOG:
        integration = integrations[integration_name]
        team = teams[team_name]
        editors = editors_by_team[team_name]
        category = EventCategory(
            title=category_title,
            description=summary,
            integration=integration,
            verified=True,
            published=True,
        )
        resources.append(category)
        counts["event_categories"] += 1
        owners += [(category, editors[0])]
        team_links.append((category, team))
        tag_links += [(category, tags[t]) for t in category_tags]

        for event_title, description, own_props in events:
            context = [p for p in CONTEXT[integration_name] if p not in ALWAYS[integration_name]]
            extra = rng.sample(context, rng.randint(1, min(3, len(context))))
            prop_names = list(dict.fromkeys(ALWAYS[integration_name] + own_props + extra))
            deprecated = rng.random() < 0.06
            published = not deprecated and rng.random() < 0.85
            verified = published and rng.random() < 0.65
            event = Event(
                title=event_title,
                description=description,
                integration=integration,
                parent=category,
                pii=any(PROPERTIES[p].pii for p in prop_names),
                verified=verified,
                published=published,
            )
            if verified or rng.random() < 0.3:
                event.definition = _event_definition(
                    integration, event_title, description, prop_names, deprecated
                )
            resources.append(event)
            counts["events"] += 1
            owners += [(event, user) for user in rng.sample(editors, rng.randint(1, len(editors)))]
            subscribers += [(event, user) for user in rng.sample(everyone, rng.randint(0, 3))]
            team_links.append((event, team))
            event_tags = list(category_tags)
            if deprecated:
                event_tags.append("deprecated")
            elif rng.random() < 0.08:
                event_tags.append("experiment")
            if event.pii:
                event_tags.append("gdpr")
            tag_links += [(event, tags[t]) for t in event_tags]
            collection_links += [
                (event, c) for c in in_collection.get((integration_name, event_title), [])
            ]

            for name in prop_names:
                spec = PROPERTIES[name]
                prop = EventProperty(
                    title=name,
                    description=spec.description,
                    integration=integration,
                    parent=event,
                    pii=spec.pii,
                    verified=verified and rng.random() < 0.9,
                    published=published,
                    data_type=spec.data_type,
                    required=spec.required,
                    allowed_values=list(spec.allowed) if spec.allowed else None,
                    examples=list(spec.examples) if spec.examples else None,
                )
                if spec.pii or spec.allowed or rng.random() < 0.15:
                    prop.definition = _property_definition(name, spec)
                resources.append(prop)
                counts["event_properties"] += 1
                if spec.pii:
                    tag_links.append((prop, tags["gdpr"]))
                    owners.append((prop, users["lukas.becker"]))
                if rng.random() < 0.05:
                    subscribers.append((prop, rng.choice(everyone)))

    for resource in resources:
        # What a service would validate, minus the queries per row (foreign keys exist, titles
        # are unique): the database's constraints check those during the insert.
        resource.clean_fields(exclude={"integration", "parent"})
        resource.clean()
    Resource.objects.bulk_create(resources, batch_size=500)
    _links("owners", owners)
    _links("subscribers", subscribers)
    _links("teams", team_links)
    _links("tags", tag_links)
    _links("collections", collection_links)

    return {
        "integrations": len(integrations),
        **counts,
        "users": len(users),
        "teams": len(teams),
        "tags": len(tags),
        "collections": len(collections),
        "owners": len(owners),
        "subscribers": len(subscribers),
    }
