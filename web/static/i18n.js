// The page's words in its language (English or Cymraeg). The server puts
// the page's fixed words in place and the language's catalogue in the page
// (script#i18n); this gives the page's scripts the words they make, dates
// and numbers in the language's way, and a switch between languages.
'use strict';

window.seatlinkI18n = (() => {
  const lang = document.documentElement.lang || 'en';
  let words = {};
  try { words = JSON.parse(document.getElementById('i18n').textContent); } catch (e) { words = {}; }
  // A browser may lack the language's data (Debian's Chromium has none
  // for Welsh): then plurals follow CLDR's rule for Welsh here, and dates
  // take British order with the catalogue's month and day names.
  const known = (() => { try { return Intl.DateTimeFormat.supportedLocalesOf([lang]).length > 0; } catch (e) { return false; } })();
  const locale = lang === 'en' ? 'en-GB' : lang;
  const welshPlural = (n) => (n === 0 ? 'zero' : n === 1 ? 'one' : n === 2 ? 'two' : n === 3 ? 'few' : n === 6 ? 'many' : 'other');
  const plural = known || lang !== 'cy' ? new Intl.PluralRules(locale) : { select: welshPlural };

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

  function number(n, opts) { return new Intl.NumberFormat(known ? locale : 'en-GB', opts).format(n); }

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
    return format(d, opts || { weekday: 'long', day: 'numeric', month: 'long' });
  }

  function time(d) { return format(new Date(d), { hour: '2-digit', minute: '2-digit' }); }

  // format is Intl's, or, for a language the browser lacks, British
  // order with the names from the catalogue.
  function format(d, opts) {
    if (known) return new Intl.DateTimeFormat(locale, opts).format(d);
    return new Intl.DateTimeFormat('en-GB', opts).formatToParts(d).map((p) => {
      if (p.type === 'month' && (opts.month === 'long' || opts.month === 'short')) {
        return t('date.' + (opts.month === 'long' ? 'month' : 'month_short') + '.' + (d.getMonth() + 1));
      }
      if (p.type === 'weekday') return t('date.' + (opts.weekday === 'long' ? 'weekday' : 'weekday_short') + '.' + d.getDay());
      return p.value;
    }).join('');
  }

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
