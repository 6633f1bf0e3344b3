// A form with data-confirm asks its question before it is sent, and a dismissed question
// sends nothing: one click promoted a model, or moved every label of a class to another,
// with no way back. {field} in the question is that field's value as the form will send it
// (the class a deprecation moves the labels to, chosen after the page was drawn).
// A field marked data-confirmed is enabled once the question is accepted.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : undefined;
  if (!question) return;
  const asked = question.replace(/\{(\w+)\}/g, (placeholder, name) => {
    const field = form.elements.namedItem(name);
    return field && "value" in field ? field.value : placeholder;
  });
  if (!window.confirm(asked)) {
    event.preventDefault();
    return;
  }
  // The question was asked here: a field the server reads as "asked" (a disabled one is not
  // sent, so without this script the server asks on a page of its own: Talk's Delete).
  for (const field of form.querySelectorAll("[data-confirmed]")) field.disabled = false;
});
