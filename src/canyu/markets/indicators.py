"""The public indicators the scorer reads: code, title, unit and source (pure data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    title: str
    unit: str
    source: str


INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        Indicator("SP.POP.TOTL", "Population", "people", "World Bank WDI"),
        Indicator("NY.GDP.PCAP.PP.CD", "GDP per capita, PPP", "current intl $", "World Bank WDI"),
        Indicator("IT.NET.USER.ZS", "Internet users", "% of population", "ITU / World Bank"),
        Indicator(
            "IT.CEL.SETS.P2", "Mobile subscriptions", "per 100 people", "ITU / World Bank WDI"
        ),
        Indicator(
            "IT.NET.BBND.P2", "Fixed broadband subscriptions", "per 100 people", "World Bank WDI"
        ),
        Indicator(
            "IT.NET.SECR.P6", "Secure internet servers", "per million people", "World Bank WDI"
        ),
        Indicator("LP.LPI.OVRL.XQ", "Logistics Performance Index", "1 to 5", "World Bank LPI"),
        Indicator("FINDEX.ACCOUNT", "Account ownership", "% age 15+", "World Bank Findex"),
        Indicator("FINDEX.BUY_ONLINE", "Bought something online", "% age 15+", "World Bank Findex"),
        Indicator("PEW.SMARTPHONE", "Smartphone ownership", "% of adults", "Pew Research"),
        Indicator("PEW.SOCIAL", "Social-network use", "% of adults", "Pew Research"),
    )
}
