// Keys in the review queue (a Streamlit components v2 module with no markup of its own):
// j / ↓ moves to the next report, k / ↑ to the previous one, Enter opens it (the focused
// button's own click). The report buttons are Streamlit buttons whose widget keys start
// with rv_queue_open_ (Streamlit marks each keyed element with an st-key-<key> class).

const REPORT_BUTTONS = '[class*="st-key-rv_queue_open_"] button';
const STEPS = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const step = STEPS[event.key];
  if (step === undefined) return;
  const buttons = [...document.querySelectorAll(REPORT_BUTTONS)];
  if (!buttons.length) return;
  const at = buttons.indexOf(document.activeElement);
  // From outside the list, j starts at the first report and k at the last.
  const next = at < 0 ? (step > 0 ? 0 : buttons.length - 1) : Math.min(Math.max(at + step, 0), buttons.length - 1);
  buttons[next].focus();
  buttons[next].scrollIntoView({ block: "nearest" });
  event.preventDefault();
}

export default function () {
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
