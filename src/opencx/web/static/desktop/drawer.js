// The customer and tools beside the conversation. Where the screen is too narrow for
// three columns (desktop.css: under 75rem), they become a drawer over the conversation,
// opened by the "Customer details" button of its header: focus moves into the drawer,
// Escape or its Close button shuts it and puts focus back on the button.

const NARROW = "(max-width: 75rem)";

export function mountContextDrawer({ store }) {
  const aside = document.getElementById("desk-context");
  const narrow = window.matchMedia(NARROW);
  let opener = null;

  function isOpen() {
    return aside.dataset.open === "true";
  }
  function open(button) {
    opener = button;
    aside.dataset.open = "true";
    button?.setAttribute("aria-expanded", "true");
    const tab = aside.querySelector('[role="tab"][aria-selected="true"]') || aside.querySelector(".drawer-close");
    tab?.focus();
  }
  function close({ refocus = true } = {}) {
    if (!isOpen()) return;
    delete aside.dataset.open;
    for (const button of document.querySelectorAll('[aria-controls="desk-context"]')) button.setAttribute("aria-expanded", "false");
    if (refocus && opener?.isConnected) opener.focus();
    opener = null;
  }

  aside.querySelector(".drawer-close").addEventListener("click", () => close());
  aside.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && narrow.matches && isOpen()) {
      event.preventDefault();
      close();
    }
  });
  narrow.addEventListener("change", () => close({ refocus: false }));
  store.addEventListener("change", () => {
    if (!store.conversations.has(store.selected)) close({ refocus: false });
  });
  return {
    isOpen,
    toggle: (button) => (isOpen() ? close() : open(button)),
  };
}
