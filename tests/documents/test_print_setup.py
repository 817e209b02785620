"""The portal says at start what the machine lacks to print Chinese documents."""
from portal.pdf import print_setup_problems


def test_this_machine_has_what_printing_needs(app):
    assert print_setup_problems() == []
    assert app.config["PORTAL_PRINT_PROBLEMS"] == []


def test_a_missing_subset_library_and_font_are_named_with_their_debian_packages():
    problems = print_setup_problems(harfbuzz="harfbuzz-subset-that-is-not-there", font_lang="x-klingon")
    assert len(problems) == 2
    assert "libharfbuzz-subset0" in problems[0] and "慢" in problems[0]
    assert "fonts-noto-cjk" in problems[1] and "方框" in problems[1]


def test_the_print_page_shows_the_problems(app, login_as):
    app.config["PORTAL_PRINT_PROBLEMS"] = ["没有可用的中文字体（fonts-noto-cjk）"]
    try:
        page = login_as("sifa").get("/prints/")
        assert "print-problem" in page.text and "fonts-noto-cjk" in page.text
    finally:
        app.config["PORTAL_PRINT_PROBLEMS"] = []
