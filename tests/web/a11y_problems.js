// What a page lacks for assistive technology: a list of problems, empty if
// none (tests/web/test_browser.py evaluates it in each page).
() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('no lang');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not one h1');
  for (const field of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!field.labels.length && !field.getAttribute('aria-label')) problems.push(`unlabelled ${field.name}`);
  }
  for (const el of document.querySelectorAll('a, button')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push(`unnamed ${el.outerHTML}`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    const described = svg.getAttribute('aria-hidden') === 'true' ? svg.closest('figure')?.querySelector('.legend') : svg.querySelector('desc');
    if (!described) problems.push('a chart with no text');
  }
  return problems;
}
