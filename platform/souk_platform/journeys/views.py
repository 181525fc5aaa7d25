"""stub"""
from flask import Blueprint

bp = Blueprint("shop_journeys", __name__)
