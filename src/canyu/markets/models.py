"""Markets tables: public indicators per country and year, the plans imported to judge the
scorer by, and the team's decisions to open a market."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from canyu.db import Base, utcnow


class Figure(Base):
    """One indicator's value for a country and year, as published (re-imports replace it)."""

    __tablename__ = "markets_figures"
    __table_args__ = (UniqueConstraint("iso3", "indicator", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iso3: Mapped[str] = mapped_column(String(3))
    indicator: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanEntry(Base):
    """A market in a plan (a labels file: the countries a company entered or announced)."""

    __tablename__ = "markets_plan_entries"
    __table_args__ = (UniqueConstraint("plan", "iso3"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan: Mapped[str] = mapped_column(String(64), index=True)
    iso3: Mapped[str] = mapped_column(String(3))
    first_sale: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM, if known
    note: Mapped[str] = mapped_column(String(200), default="")


class Opening(Base):
    """The team's decision to open a market: products, rollouts and packs may then target it."""

    __tablename__ = "markets_openings"

    id: Mapped[int] = mapped_column(primary_key=True)
    iso3: Mapped[str] = mapped_column(String(3), unique=True)
    opened_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
