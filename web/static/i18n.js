// The page's words in its language (English or Cymraeg). The server puts
// the page's fixed words in place and the language's catalogue in the page
// (script#i18n); this gives the page's scripts the words they make, dates
// and numbers in the language's way, and a switch between languages.
'use strict';

window.seatlinkI18n = (() => {
  const lang = document.documentElement.lang || 'en';
  let words = {};
  try { words = JSON.parse(document.getElementById('i18n').textContent); } catch (e) { words = {}; }
  const plural = new Intl.PluralRules(lang);

  // t is the text for key with {name} placeholders filled from vars; a
  // text with plural forms takes the form for vars.n.
  function t(key, vars) {
    let s = words[key];
    if (s && typeof s === 'object') s = s[plural.select(Number(vars && vars.n))] || s.other;
    if (typeof s !== 'string') {
      console.error('seatlink: no text for', key, 'in', lang);
      return key;
    }
    if (!vars) return s;
    return s.replace(/\{([a-z_]+)\}/g, (m, name) => (name === 'n' && typeof vars.n === 'number' ? number(vars.n)
      : (vars[name] !== undefined ? String(vars[name]) : m)));
  }

  // has says whether the catalogue has key (for words chosen by a code).
  function has(key) { return Object.prototype.hasOwnProperty.call(words, key); }

  function number(n, opts) { return new Intl.NumberFormat(lang, opts).format(n); }

  // date formats a Date or an ISO date (YYYY-MM-DD, read as that day, not
  // as midnight UTC) for the language: opts as Intl.DateTimeFormat's, by
  // default the day and month in words ("Monday 3 November").
  function date(d, opts) {
    if (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d)) {
      const [y, m, day] = d.split('-').map(Number);
      d = new Date(y, m - 1, day);
    } else if (!(d instanceof Date)) {
      d = new Date(d);
    }
    return new Intl.DateTimeFormat(lang, opts || { weekday: 'long', day: 'numeric', month: 'long' }).format(d);
  }

  function time(d) { return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(new Date(d)); }

  const names = { en: 'English', cy: 'Cymraeg' };

  // keep saves the choice with the signed-in person, if anyone is, so
  // that their other devices open in it too (the device remembers it
  // anyway, from the page's ?lang=).
  async function keep(l) {
    try {
      const r = await fetch('/api/v1/session', { credentials: 'same-origin' });
      if (!r.ok) return;
      const me = await r.json();
      await fetch('/api/v1/session/language', {
        method: 'PUT', credentials: 'same-origin', body: JSON.stringify({ lang: l }),
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || '' },
      });
    } catch (e) { /* the device's choice still holds */ }
  }

  // switcher fills el with a link to each other language; choosing one
  // loads the page again in it, and the device remembers the choice.
  function switcher(el) {
    if (!el) return;
    el.textContent = '';
    for (const l of Object.keys(names)) {
      if (l === lang) continue;
      const a = document.createElement('a');
      const url = new URL(location.href);
      url.searchParams.set('lang', l);
      a.href = url.pathname + url.search + url.hash;
      a.lang = l;
      a.hreflang = l;
      a.className = 'lang-switch';
      a.textContent = names[l];
      a.addEventListener('click', async (ev) => {
        ev.preventDefault();
        await keep(l);
        // The address may have changed since (a token taken out of it).
        const now = new URL(location.href);
        now.searchParams.set('lang', l);
        location.assign(now.pathname + now.search + now.hash);
      });
      el.appendChild(a);
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    for (const el of document.querySelectorAll('[data-lang-switch]')) switcher(el);
  });

  return { lang, t, has, number, date, time, switcher };
})();
