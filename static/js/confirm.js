// A form with data-confirm asks its question before it is sent, and a dismissed question
// sends nothing: one click promoted a model, or moved every label of a class to another,
// with no way back. {field} in the question is that field's value as the form will send it
// (the class a deprecation moves the labels to, chosen after the page was drawn).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : undefined;
  if (!question) return;
  const asked = question.replace(/\{(\w+)\}/g, (placeholder, name) => {
    const field = form.elements.namedItem(name);
    return field && "value" in field ? field.value : placeholder;
  });
  if (!window.confirm(asked)) event.preventDefault();
});
