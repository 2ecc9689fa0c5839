// What a screen reader should say of news outside the focus: a new offer (assertive:
// the agent has seconds to answer it) and a customer's new message in a conversation
// not shown (polite); the conversation shown is a log, read as it grows.

export function announce(text, { urgent = false } = {}) {
  const region = document.getElementById(urgent ? "announce-urgent" : "announce-polite");
  if (!region) return;
  // Screen readers read a change of the region's text: empty it first, so the same
  // words said twice are read twice.
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 100);
}
