// flamegraph.js - the script of the flame graph SVG (report/flamegraph.c).
//
// Frames are cached once (label, sample offset and width, row); zoom()
// lays them out for a chosen frame: ancestors full width and dimmed, the
// frame and what is above it scaled, the rest hidden. search() colours
// matches and reports the union of their sample ranges. ?s=REGEX and
// ?x=PX&y=PX (a point in the unzoomed graph) restore a search and a zoom,
// and both are written back to the address, so a view can be shared.
//
// Embedded at build time (Makefile: build/gen/flamegraph_js.inc), without
// the lines that start with "//" (this header). report_flamegraph() puts
// in the values of @GS_NS@, @HIGHLIGHT@ and @FRAME_H@ from flamegraph.c.
'use strict';
var NS = '@GS_NS@';
var frames = [], byEl = new Map(), total = 0, xpad = 0, usable = 0, fontw = 7;
var details, unzoomBtn, searchBtn, matchedTxt, zoomed = null, searching = null;
var HL = '@HIGHLIGHT@';
function gs_init() {
  var root = document.getElementById('frames');
  total = +root.getAttributeNS(NS, 'total');
  xpad = +root.getAttributeNS(NS, 'xpad');
  usable = +root.getAttributeNS(NS, 'usable');
  fontw = +root.getAttributeNS(NS, 'fontw');
  details = document.getElementById('details');
  unzoomBtn = document.getElementById('unzoom');
  searchBtn = document.getElementById('search');
  matchedTxt = document.getElementById('matched');
  var gs = root.getElementsByTagName('g');
  for (var i = 0; i < gs.length; i++) {
    var g = gs[i], rect = g.getElementsByTagName('rect')[0];
    var title = g.getElementsByTagName('title')[0].textContent.split('\n');
    var f = { g: g, rect: rect, text: g.getElementsByTagName('text')[0],
      x: +g.getAttributeNS(NS, 'x'), w: +g.getAttributeNS(NS, 'w'),
      y: +rect.getAttribute('y'), fill: rect.getAttribute('fill'),
      label: title[0], info: title[0] + ' \u2014 ' + title[title.length - 2],
      find: title.length > 3 ? title[0] + ' ' + title[1] : title[0] };
    frames.push(f);
    byEl.set(g, f);
  }
  root.addEventListener('click', function (e) { var f = frameOf(e.target); if (f) zoom(f); });
  root.addEventListener('mouseover', function (e) { var f = frameOf(e.target); if (f) details.textContent = f.info; });
  root.addEventListener('mouseout', function () { details.textContent = ' '; });
  unzoomBtn.addEventListener('click', function () { unzoom(); saveState(); });
  searchBtn.addEventListener('click', searchPrompt);
  window.addEventListener('keydown', function (e) {
    if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) {
      e.preventDefault(); searchPrompt();
    } else if (e.key === 'Escape') { resetSearch(); saveState(); }
  });
  loadState();
}
function frameOf(el) {
  while (el && el.nodeType === 1) { var f = byEl.get(el); if (f) return f; el = el.parentNode; }
  return null;
}
function fit(f, pw) {
  var n = Math.floor((pw - 6) / fontw), chars = Array.from(f.label);
  if (n < 3) f.text.textContent = '';
  else if (chars.length > n) f.text.textContent = chars.slice(0, n - 2).join('') + '..';
  else f.text.textContent = f.label;
}
function place(f, px, pw) {
  f.rect.setAttribute('x', px.toFixed(2));
  f.rect.setAttribute('width', pw.toFixed(2));
  f.text.setAttribute('x', (px + 3).toFixed(2));
  fit(f, pw);
}
function zoom(z) {
  if (!(z.w > 0)) return;
  zoomed = z;
  unzoomBtn.classList.remove('hide');
  frames.forEach(function (f) {
    f.g.classList.remove('hide', 'parent');
    if (f.y > z.y && f.x <= z.x && f.x + f.w >= z.x + z.w) {
      f.g.classList.add('parent');
      place(f, xpad, usable);
    } else if (f.y <= z.y && f.x >= z.x && f.x + f.w <= z.x + z.w) {
      place(f, xpad + (f.x - z.x) / z.w * usable, f.w / z.w * usable);
    } else {
      f.g.classList.add('hide');
    }
  });
  saveState();
}
function unzoom() {
  zoomed = null;
  unzoomBtn.classList.add('hide');
  frames.forEach(function (f) {
    f.g.classList.remove('hide', 'parent');
    place(f, xpad + f.x / total * usable, f.w / total * usable);
  });
}
function searchPrompt() {
  if (searching !== null) { resetSearch(); saveState(); return; }
  var term = window.prompt('Search for (regular expression):', '');
  if (term) search(term);
}
function resetSearch() {
  searching = null;
  frames.forEach(function (f) { f.rect.setAttribute('fill', f.fill); });
  matchedTxt.classList.add('hide');
  searchBtn.textContent = 'Search';
}
function search(term) {
  var re;
  try { re = new RegExp(term); } catch (e) { matchedTxt.textContent = 'Bad expression'; matchedTxt.classList.remove('hide'); return; }
  var ranges = [];
  frames.forEach(function (f) {
    if (re.test(f.find)) { f.rect.setAttribute('fill', HL); ranges.push([f.x, f.x + f.w]); }
    else f.rect.setAttribute('fill', f.fill);
  });
  ranges.sort(function (a, b) { return a[0] - b[0]; });
  var covered = 0, end = -1;
  ranges.forEach(function (r) {
    if (r[0] >= end) { covered += r[1] - r[0]; end = r[1]; }
    else if (r[1] > end) { covered += r[1] - end; end = r[1]; }
  });
  searching = term;
  searchBtn.textContent = 'Reset Search';
  matchedTxt.textContent = 'Matched: ' + (total ? covered / total * 100 : 0).toFixed(1) + '%';
  matchedTxt.classList.remove('hide');
  saveState();
}
function frameAt(px, py) {
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i], x0 = xpad + f.x / total * usable, x1 = x0 + f.w / total * usable;
    if (px >= x0 && px <= x1 && py >= f.y && py < f.y + @FRAME_H@) return f;
  }
  return null;
}
function loadState() {
  var p;
  try { p = new URLSearchParams(window.location.search); } catch (e) { return; }
  if (p.get('x') !== null && p.get('y') !== null) {
    var f = frameAt(+p.get('x'), +p.get('y'));
    if (f) zoom(f);
  }
  if (p.get('s')) search(p.get('s'));
}
function saveState() {
  try {
    var p = new URLSearchParams();
    if (zoomed) {
      p.set('x', (xpad + (zoomed.x + zoomed.w / 2) / total * usable).toFixed(2));
      p.set('y', zoomed.y + 1);
    }
    if (searching !== null) p.set('s', searching);
    var q = p.toString();
    history.replaceState(null, '', window.location.pathname + (q ? '?' + q : ''));
  } catch (e) { /* file: documents may refuse; the view still works */ }
}
