"""Checks any browser test can run on the page it shows: nothing wider than the viewport, and
WCAG AA contrast for every piece of visible text (our own check over computed styles: each
text's colour against the background it is painted on, blended through the ancestors'
translucent backgrounds; 4.5:1, or 3:1 for large text)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

# Returns the elements that stick out past the right edge (the widest first) when the page
# scrolls sideways, else an empty list.
_OVERFLOW_JS = """
() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 0.5) {
      out.push({
        tag: el.tagName.toLowerCase(),
        cls: String(el.className.baseVal ?? el.className),
        right: Math.round(r.right),
        text: (el.textContent || '').trim().slice(0, 40),
      });
    }
  }
  out.sort((a, b) => b.right - a.right);
  return [{page: document.documentElement.scrollWidth, viewport: width}, ...out.slice(0, 6)];
}
"""

_CONTRAST_JS = """
() => {
  const parse = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  // The colour painted behind an element: its own and its ancestors' backgrounds, blended;
  // null when an image or gradient is among them (not judged: we cannot know its pixels).
  const backdrop = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.backgroundImage && s.backgroundImage !== 'none') return null;
      const c = parse(s.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;  // visually hidden (sr-only) or empty
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const s = getComputedStyle(node);
      const gone = s.visibility === 'hidden' || s.display === 'none';
      if (gone || Number(s.opacity) === 0) return false;
    }
    return true;
  };
  const failures = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg, [aria-hidden="true"], option')) continue;
    const field = el.matches(
      'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), '
      + 'textarea, select');
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!field && !own) continue;
    if (field && !el.value) continue;
    if (el.disabled || el.closest('[disabled]') || !visible(el)) continue;
    const s = getComputedStyle(el);
    const bg = backdrop(el);
    const fg = parse(s.color);
    if (!bg || !fg) continue;
    const size = parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    const got = ratio(over(fg, bg), bg);
    if (got + 0.005 < need) {
      const text = field ? el.value : Array.from(el.childNodes)
        .filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(' ');
      failures.push({tag: el.tagName.toLowerCase(), cls: String(el.className),
                     text: text.slice(0, 40),
                     ratio: Math.round(got * 100) / 100, need, color: s.color,
                     background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')'});
    }
  }
  return failures;
}
"""


def overflow(page: Page) -> list[dict[str, Any]]:
    """Empty when the page fits its viewport; else its width and what sticks out."""
    found: list[dict[str, Any]] = page.evaluate(_OVERFLOW_JS)
    return found


def contrast_failures(page: Page) -> list[dict[str, Any]]:
    """Every visible text below WCAG AA contrast against what is painted behind it."""
    found: list[dict[str, Any]] = page.evaluate(_CONTRAST_JS)
    return found
