"""The morning report: one day of failures, trends and impacts built from the graph, rendered as
Markdown, HTML, JSON, Slack Block Kit or a Teams Adaptive Card, and delivered once per channel."""
