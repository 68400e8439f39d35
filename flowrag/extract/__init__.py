"""flowrag.extract"""
