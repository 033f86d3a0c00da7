"""Name tables for the synthetic county (Bedfordshire-like communities).

Lists are ordered roughly from common to rare: `names.pick` draws with a Zipf-like
weight, so "John Smith" and "Mohammed Khan" are common, as in real records.
Polish surnames are stored in the masculine form; `names.polish_form` inflects them.
"""
from __future__ import annotations

COMMUNITIES = (
    "white_british", "irish", "italian", "polish", "pakistani", "bangladeshi", "indian",
    "black_caribbean", "black_african",
)

_WB_MALE_OLD = """John David Michael Paul Peter Stephen Robert Richard Mark Andrew Ian Gary
Kevin Alan Christopher Anthony William James Brian Keith Graham Colin Trevor Nigel Martin
Philip Terence Geoffrey Raymond Roger Barry Derek Dennis Kenneth Malcolm Neil Simon Stuart
Timothy Jonathan Edward Thomas Daniel Matthew Steven""".split()
_WB_MALE_YOUNG = """Oliver Jack Harry George Thomas James Joshua Daniel Samuel William Noah
Charlie Jacob Oscar Benjamin Lewis Ryan Callum Liam Jake Connor Kieran Nathan Luke Matthew
Adam Alfie Archie Freddie Leo Henry Theo Jamie Dylan Mason Tyler Ethan Alexander Max Joseph
Jonathan Christopher Michael Edward Reece Bradley Frederick Zachary""".split()
_WB_FEMALE_OLD = """Susan Margaret Patricia Linda Christine Elizabeth Jennifer Deborah Julie
Karen Janet Sandra Carol Barbara Jacqueline Angela Helen Alison Gillian Tracey Sharon Dawn
Wendy Maureen Pauline Jean Valerie Lesley Catherine Katherine Sarah Nicola Joanne Amanda
Michelle Kathryn Jane Ann Mary Rebecca Victoria Samantha""".split()
_WB_FEMALE_YOUNG = """Olivia Amelia Emily Sophie Jessica Isla Ava Grace Mia Poppy Ella Lily
Evie Isabella Chloe Charlotte Hannah Lauren Rebecca Emma Amy Laura Gemma Samantha Kayleigh
Stacey Danielle Victoria Jade Megan Holly Katie Lucy Ellie Freya Daisy Phoebe Ruby Scarlett
Elizabeth Rachel Natalie Zoe Leanne Kelly Abigail Sophia Millie Jennifer Charlotte""".split()
_WB_SURNAMES = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts
Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Jackson
Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen
James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook
Carter Richardson Bailey Collins Bell Shaw Miller Cox Richards Marshall Anderson Simpson Ellis
Adams Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Hunt Holmes Palmer Mills Barnes
Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Dixon Fletcher Howard Gibson Ford
Pearson Andrews Stone Saunders Fox Reynolds Lawrence Bradley Ashby Dunn Pratt Gentle Goodwin
Hopkins Sutton Lane Newman Weston Hale Chambers""".split()

_IRISH_MALE = "Sean Patrick Michael Declan Ciaran Liam Conor Brendan Kieran Padraig Eoin Cormac Niall Ronan Darragh".split()
_IRISH_FEMALE = "Siobhan Niamh Aoife Sinead Mary Bridget Roisin Ciara Orla Aisling Caoimhe Maeve Clodagh Grainne Saoirse".split()
_IRISH_SURNAMES = """Murphy Kelly O'Brien O'Sullivan Walsh Byrne Ryan O'Connor O'Neill Doyle McCarthy
Gallagher Doherty Kennedy Lynch Quinn McLaughlin Brennan Fitzgerald Keane O'Reilly Nolan Dunne
Farrell Flanagan""".split()

_ITALIAN_MALE = "Giuseppe Antonio Giovanni Marco Luca Francesco Salvatore Vincenzo Alessandro Matteo Domenico Pasquale Carmine Roberto".split()
_ITALIAN_FEMALE = "Maria Anna Giuseppina Rosa Francesca Giulia Chiara Sofia Lucia Carmela Teresa Angela Concetta Alessia".split()
_ITALIAN_SURNAMES = [s.replace("_", " ") for s in """Rossi Esposito Russo Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo
Conti De_Luca Costa Giordano Mancini Rizzo Lombardi Moretti Barbieri Fontana Caruso Ferrara
Santoro Di_Marco""".split()]

_POLISH_MALE = """Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Jakub Łukasz Kamil Mateusz
Adam Dawid Szymon Wojciech Grzegorz Bartosz Filip Aleksander Jan""".split()
_POLISH_FEMALE = """Anna Katarzyna Małgorzata Agnieszka Joanna Magdalena Monika Ewa Aleksandra
Natalia Zuzanna Julia Maja Zofia Oliwia Wiktoria Karolina Dominika Justyna Paulina""".split()
_POLISH_SURNAMES = """Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński
Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski
Grabowski Nowakowski Pawłowski Michalski Król Wieczorek Jabłoński Wróbel""".split()

_PAK_MALE = """Mohammed Muhammad Ali Imran Asif Tariq Zahid Shahid Amir Usman Bilal Hamza Zain
Ibrahim Yusuf Adil Faisal Irfan Kashif Nadeem Rizwan Sajid Waqar Umar Hassan Ayaan Rayyan
Musa Mohammad""".split()
_PAK_FEMALE = """Fatima Ayesha Aisha Zainab Maryam Nadia Saima Shazia Rubina Samina Sadia Amina
Khadija Hira Iqra Noor Sana Mehreen Aleena Zara Hafsa Safa Anaya Inaya""".split()
_PAK_SURNAMES = """Khan Hussain Ahmed Ali Akhtar Iqbal Mahmood Shah Butt Malik Rashid Aslam Riaz
Mirza Qureshi Javed Bashir Raja Chaudhry Anwar""".split()

_BAN_MALE = """Mohammed Abdul Shahid Jamal Rahim Kamal Anwar Abul Faruk Habib Nazrul Rubel Sohel
Tanvir Rayhan Ayan Zakir Mizanur Shamim Arif""".split()
_BAN_FEMALE = """Fatema Nasima Rahima Shirin Salma Rina Jesmin Taslima Sumaiya Tahmina Nusrat
Farzana Sabrina Anika Tasnim Jannat Sadia Ruksana""".split()
_BAN_SURNAMES = """Miah Rahman Uddin Islam Ahmed Hoque Ali Chowdhury Hossain Alam Karim Haque
Sarkar Bhuiyan Talukdar""".split()

_IND_MALE = """Gurpreet Harjit Jaswinder Kuldip Manjit Rajinder Sukhwinder Amarjit Arjun Rohan
Sanjay Vijay Rajesh Anil Deepak Nikhil Aarav Vikram Harpreet Ravi Sunil Amit""".split()
_IND_FEMALE = """Harpreet Gurpreet Jasvir Manpreet Kiran Priya Pooja Anjali Sunita Neha Simran
Navneet Parminder Rajvinder Deepa Meena Asha Anita Aanya""".split()
_IND_SURNAMES = """Patel Gill Sandhu Sidhu Dhillon Bains Johal Kumar Sharma Shah Mistry Chauhan
Parmar Bhatti Grewal Atwal Sahota Mann""".split()

_BC_MALE = """Andre Marcus Delroy Winston Leroy Carlton Tyrone Jermaine Dwayne Marlon Lloyd Clive
Errol Devon Kareem Isaiah Elijah Tyrese Kai Jayden Malachi Darnell""".split()
_BC_FEMALE = """Marcia Sonia Beverley Donna Paulette Hyacinth Jacqueline Simone Kezia Shanice
Tanisha Chantelle Aaliyah Jada Keisha Leah Naomi Tiana Imani Amara""".split()
_BC_SURNAMES = """Campbell Brown Williams Thomas Clarke Francis Grant Henry Lewis Morgan Reid
Robinson Samuels Stewart Thompson Walker Wright Bailey Gordon Hamilton Richards Spencer Forbes
Lindo McKenzie""".split()

_BA_MALE = """Emmanuel Samuel David Daniel Joseph Chukwuemeka Oluwaseun Tunde Kwame Kofi Michael
Abdi Mohamed Yusuf Femi Tobi Chidi Obinna Ayodele Kwabena""".split()
_BA_FEMALE = """Blessing Grace Esther Adaeze Chioma Ngozi Funmilayo Abena Ama Akosua Folake Amina
Hodan Fadumo Ifeoma Precious Favour Mercy Deborah Joy""".split()
_BA_SURNAMES = """Okafor Adeyemi Okonkwo Mensah Boateng Owusu Asante Adebayo Balogun Eze Nwosu
Osei Addo Danso Mohamed Hassan Abdi Yusuf Ogunleye Afolabi""".split()

# community -> (male forenames, female forenames, surnames); white British adds an older set
FORENAMES: dict[str, tuple[list[str], list[str]]] = {
    "white_british": (_WB_MALE_YOUNG, _WB_FEMALE_YOUNG),
    "irish": (_IRISH_MALE, _IRISH_FEMALE),
    "italian": (_ITALIAN_MALE, _ITALIAN_FEMALE),
    "polish": (_POLISH_MALE, _POLISH_FEMALE),
    "pakistani": (_PAK_MALE, _PAK_FEMALE),
    "bangladeshi": (_BAN_MALE, _BAN_FEMALE),
    "indian": (_IND_MALE, _IND_FEMALE),
    "black_caribbean": (_BC_MALE, _BC_FEMALE),
    "black_african": (_BA_MALE, _BA_FEMALE),
}
OLDER_FORENAMES: dict[str, tuple[list[str], list[str]]] = {
    "white_british": (_WB_MALE_OLD, _WB_FEMALE_OLD),
}
SURNAMES: dict[str, list[str]] = {
    "white_british": _WB_SURNAMES, "irish": _IRISH_SURNAMES, "italian": _ITALIAN_SURNAMES,
    "polish": _POLISH_SURNAMES, "pakistani": _PAK_SURNAMES, "bangladeshi": _BAN_SURNAMES,
    "indian": _IND_SURNAMES, "black_caribbean": _BC_SURNAMES, "black_african": _BA_SURNAMES,
}

# How each agency writes a community: children's social care (census categories),
# education (DfE codes), police (IC codes).
ETHNICITY = {
    "white_british": ("White British", "WBRI", "IC1"),
    "irish": ("White Irish", "WIRI", "IC1"),
    "italian": ("White Other", "WOTH", "IC2"),
    "polish": ("White Other", "WEEU", "IC1"),
    "pakistani": ("Asian or Asian British - Pakistani", "APKN", "IC4"),
    "bangladeshi": ("Asian or Asian British - Bangladeshi", "ABAN", "IC4"),
    "indian": ("Asian or Asian British - Indian", "AIND", "IC4"),
    "black_caribbean": ("Black or Black British - Caribbean", "BCRB", "IC3"),
    "black_african": ("Black or Black British - African", "BAFR", "IC3"),
}

# Our own nickname table (not imported): full name -> names it is often written as.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Alexander": ("Alex", "Sandy"), "Andrew": ("Andy", "Drew"), "Anthony": ("Tony",),
    "Benjamin": ("Ben",), "Catherine": ("Cathy", "Kate"), "Katherine": ("Kate", "Kathy", "Katie"),
    "Christopher": ("Chris",), "Christine": ("Chris", "Chrissie"), "Daniel": ("Dan", "Danny"),
    "David": ("Dave",), "Deborah": ("Debbie", "Deb"), "Edward": ("Ed", "Eddie", "Ted"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"), "Gillian": ("Gill",), "James": ("Jim", "Jamie"),
    "Jennifer": ("Jen", "Jenny"), "John": ("Jack", "Johnny"), "Jonathan": ("Jon", "Jonny"),
    "Joseph": ("Joe",), "Joshua": ("Josh",), "Kenneth": ("Ken",), "Margaret": ("Maggie", "Peggy"),
    "Matthew": ("Matt",), "Michael": ("Mike", "Mick"), "Nicola": ("Nicky",),
    "Patricia": ("Pat", "Trish"), "Patrick": ("Pat", "Paddy"), "Peter": ("Pete",),
    "Philip": ("Phil",), "Rebecca": ("Becky", "Becca"), "Richard": ("Rich", "Rick"),
    "Robert": ("Rob", "Bob", "Bobby"), "Samantha": ("Sam",), "Samuel": ("Sam",),
    "Stephen": ("Steve",), "Steven": ("Steve",), "Susan": ("Sue",), "Thomas": ("Tom", "Tommy"),
    "Timothy": ("Tim",), "Victoria": ("Vicky", "Tori"), "William": ("Bill", "Will", "Billy"),
    "Zachary": ("Zach",), "Abigail": ("Abbie",), "Frederick": ("Freddie", "Fred"),
    "Charlotte": ("Lottie", "Charlie"), "Jessica": ("Jess",), "Natalie": ("Nat",),
    "Raymond": ("Ray",), "Terence": ("Terry",), "Jacqueline": ("Jackie",), "Valerie": ("Val",),
    "Sandra": ("Sandy",), "Mohammed": ("Mo",), "Muhammad": ("Mo",), "Giuseppe": ("Joe", "Peppe"),
    "Giovanni": ("Gianni",), "Francesco": ("Frank",), "Aleksander": ("Olek",),
    "Katarzyna": ("Kasia",), "Małgorzata": ("Gosia",), "Aleksandra": ("Ola",),
    "Wojciech": ("Wojtek",), "Agnieszka": ("Aga",), "Oluwaseun": ("Seun",),
    "Chukwuemeka": ("Emeka",), "Funmilayo": ("Funmi",), "Emmanuel": ("Manny",),
    "Ayodele": ("Ayo",), "Alfie": ("Alf",), "Oliver": ("Ollie",), "Harry": ("Haz",),
    "Dominika": ("Domi",), "Gurpreet": ("Guri",), "Harpreet": ("Harry",),
}
# Spellings of one name that agencies mix up.
VARIANTS: dict[str, tuple[str, ...]] = {
    "Mohammed": ("Muhammad", "Mohammad", "Mohamed"), "Muhammad": ("Mohammed", "Muhammed"),
    "Mohammad": ("Mohammed",), "Catherine": ("Katherine", "Kathryn"), "Katherine": ("Catherine",),
    "Stephen": ("Steven",), "Steven": ("Stephen",), "Sean": ("Shaun", "Shawn"),
    "Hussain": ("Hussein", "Husain"), "Ahmed": ("Ahmad",), "Aleksandra": ("Alexandra",),
    "Geoffrey": ("Jeffrey",), "Philip": ("Phillip",), "Aaliyah": ("Aliyah",), "Ayesha": ("Aisha",),
    "Zara": ("Zarah",), "Leanne": ("Lianne",), "Kayleigh": ("Kayley", "Kaylee"),
    "Jayden": ("Jaden",), "Fatima": ("Fatema",), "Rahman": ("Rehman",), "Chaudhry": ("Choudhury",),
    "Mahmood": ("Mahmud",), "Tracey": ("Tracy",), "Siobhan": ("Shivaun",), "Niamh": ("Neve",),
    "McKenzie": ("Mackenzie",), "Campbell": ("Cambell",), "Okafor": ("Okafur",),
}
# Similar names that twins are sometimes given.
TWIN_PAIRS = (
    ("Aidan", "Aiden"), ("Olivia", "Oliver"), ("Jacob", "Joseph"), ("Ella", "Emma"),
    ("Hassan", "Hussain"), ("Kacper", "Kamil"), ("Amara", "Amari"), ("Lily", "Lola"),
)

ADULT_OCCUPATIONS = (
    "care assistant", "retail assistant", "warehouse operative", "delivery driver", "nurse",
    "electrician", "plumber", "accountant", "office administrator", "chef", "taxi driver",
    "IT consultant", "engineer", "hairdresser", "cleaner", "civil servant", "labourer",
    "sales manager", "unemployed", "student", "self-employed", "bus driver", "factory worker",
    "teacher", "teaching assistant", "nursery worker", "school caretaker",
)
TRUST_OCCUPATIONS = frozenset({
    "teacher", "primary school teacher", "teaching assistant", "school bus driver",
    "nursery worker", "childminder", "youth worker", "sports coach", "school caretaker",
})
# Occupations that put a person on a school's staff list.
SCHOOL_STAFF = ("teacher", "teaching assistant", "school caretaker")
