function initials(name, upper, separator) {
  return name.split(' ').map((w) => w[0]).join(separator);
}

export const tidy = {
  initials,
  count(text) {
    return text.split(' ').length;
  },
};
