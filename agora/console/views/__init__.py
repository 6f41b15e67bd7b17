"""Merchant till and operator loyalty console pages."""
