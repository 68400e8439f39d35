"""flowrag.answer"""
