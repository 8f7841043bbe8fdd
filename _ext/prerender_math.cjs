// Typeset TeX into MathJax CHTML for _ext/prerender_math.py, one formula at a time.
//
// Reads JSON lines on stdin, answers one JSON line on stdout per request:
//   {"tex": "...", "display": true}  ->  {"html": "<mjx-container ...>"}  or  {"error": "..."}
//   {"css": true}                    ->  {"css": "..."}  the CSS for everything typeset
//                                        since the previous {"css": true}, then forgets it
// The configuration (TeX packages and macros, CHTML options, the size of the
// surrounding text) is one JSON argument on the command line.
//
// The TeX input is the same as in the browser (MathJax 3.2.2, the packages the
// browser's `tex` component loads or autoloads), except that a TeX error is an
// error here: no `noerrors` / `noundefined`, and formatError throws, so an undefined
// macro or a missing argument is reported instead of being drawn in red.
'use strict';

const readline = require('readline');
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {CHTML} = require('mathjax-full/js/output/chtml.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
require('mathjax-full/js/input/tex/AllPackages.js');  // registers every package's configuration

const config = JSON.parse(process.argv[2] || '{}');

const adaptor = liteAdaptor({cjkCharWidth: config.cjkCharWidth || 1});
// Assistive MathML: a visually hidden <math> copy next to the CHTML for screen readers.
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));

const tex = new TeX(Object.assign({}, config.tex || {}, {
  packages: config.packages,
  formatError: (jax, err) => { throw err; },
}));
const chtml = new CHTML(config.chtml || {});
const html = mathjax.document('', {InputJax: tex, OutputJax: chtml});
const metrics = config.metrics || {};

function typeset(request) {
  // A fresh equation-label table for each formula (Sphinx numbers the equations).
  tex.parseOptions.tags.reset();
  const node = html.convert(request.tex, {
    display: !!request.display,
    em: metrics.em || 16,
    ex: metrics.ex || 8,
    containerWidth: metrics.containerWidth || 1280,
    // In a browser MathJax scales the math so that its x-height matches the text
    // around it (matchFontHeight); at build time that scale is computed from the
    // measured metrics given in the configuration.
    scale: metrics.scale || (metrics.ex || 8) / chtml.font.params.x_height / (metrics.em || 16),
  });
  return adaptor.outerHTML(node);
}

function stylesheet() {
  // The output jax's sheet is the whole document sheet: html.documentStyleSheet()
  // would return the same rules a second time.
  const css = adaptor.textContent(chtml.styleSheet(html));
  chtml.clearCache();
  return css;
}

const lines = readline.createInterface({input: process.stdin, terminal: false});
lines.on('line', (line) => {
  if (!line.trim()) return;
  let answer;
  try {
    const request = JSON.parse(line);
    answer = request.css ? {css: stylesheet()} : {html: typeset(request)};
  } catch (err) {
    answer = {error: String((err && err.message) || err)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
