export const tidier = {
  initials(name) {
    return name[0];
  },
  count(text) {
    return text.split(' ').length;
  },
};
