/*! commentsvc embed, signing in. */ (() => { window.commentsvcAuth = {}; })();
