"""flowrag.api"""
